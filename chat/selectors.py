"""Reads that screens, endpoints and sockets need. Nothing here writes."""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Left
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _

from .exceptions import InvalidInput, SessionNotFound
from .models import CannedResponse, ChatMessage, ChatSession

REPLY_PERMISSION = "chat.reply_chatsession"

Status = ChatSession.Status

# Used for the estimated wait until enough chats were answered to measure one.
DEFAULT_WAIT_PER_CHAT_SECONDS = 120
QUEUE_SNAPSHOT_LIMIT = 1000


def parse_session_key(value) -> uuid.UUID:
    """A customer's session key from a body or header value; bad shapes are a 400."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(fields={"session_id": [_("Send the chat's session_id.")]})
    try:
        return uuid.UUID(value.strip())
    except ValueError as exc:
        raise InvalidInput(fields={"session_id": [_("Invalid session_id.")]}) from exc


def customer_session(session_key) -> ChatSession:
    """The chat a customer's key opens, or SessionNotFound."""
    key = parse_session_key(session_key)
    try:
        return ChatSession.objects.select_related("assigned_agent").get(session_id=key)
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc


def messages_after(
    *, session: ChatSession, after: int = 0, include_internal: bool = False, limit: int = 500
) -> QuerySet[ChatMessage]:
    """Messages of one chat with id > ``after``, oldest first (the catch-up cursor)."""
    qs = ChatMessage.objects.filter(session_id=session.pk, id__gt=after)
    if not include_internal:
        qs = qs.filter(is_internal=False)
    return qs.select_related("agent").order_by("id")[:limit]


def available_agents_count() -> int:
    """Agents who can answer chats and are accepting new ones (the queue's "available")."""
    return reply_capable_agents().filter(accepting_chats=True).count()


def average_wait_per_chat_seconds() -> float:
    """Average first response time over the last day's answered chats."""
    since = timezone.now() - timedelta(days=1)
    value = ChatSession.objects.filter(started_at__gte=since, first_response_at__isnull=False).aggregate(
        avg=Avg(F("first_response_at") - F("started_at"))
    )["avg"]
    if value is None:
        return float(DEFAULT_WAIT_PER_CHAT_SECONDS)
    return max(value.total_seconds(), 1.0)


def queue_snapshot() -> dict:
    """Waiting chats in queue order, with what a customer needs to estimate the wait."""
    waiting = list(
        ChatSession.objects.filter(status=Status.WAITING)
        .order_by("id")
        .values_list("id", flat=True)[:QUEUE_SNAPSHOT_LIMIT]
    )
    return {
        "waiting": waiting,
        "agents_available": available_agents_count(),
        "wait_per_chat_seconds": round(average_wait_per_chat_seconds(), 1),
    }


def estimate_wait_seconds(position: int, agents_available: int, wait_per_chat: float) -> int:
    if position <= 0:
        return 0
    return int(round(position * wait_per_chat / max(agents_available, 1)))


def queue_position(session: ChatSession) -> int:
    """1 for the next chat to be taken; 0 when the chat is not waiting."""
    if session.status != Status.WAITING:
        return 0
    return ChatSession.objects.filter(status=Status.WAITING, id__lt=session.pk).count() + 1


def queue_status(session: ChatSession | None = None) -> dict:
    agents = available_agents_count()
    waiting = ChatSession.objects.filter(status=Status.WAITING).count()
    per_chat = average_wait_per_chat_seconds()
    status = {"agents_available": agents, "waiting_chats": waiting}
    if session is not None:
        position = queue_position(session)
        status["position"] = position
        status["estimated_wait_seconds"] = estimate_wait_seconds(position, agents, per_chat)
    return status


def idle_session_ids(*, older_than) -> list[int]:
    return list(
        ChatSession.objects.filter(status__in=[Status.WAITING, Status.ACTIVE])
        .annotate(last_activity=Coalesce("last_message_at", "started_at"))
        .filter(last_activity__lt=older_than)
        .values_list("id", flat=True)
    )


def staff_sessions(*, status: str | None = None) -> QuerySet[ChatSession]:
    qs = ChatSession.objects.select_related("assigned_agent")
    if status:
        qs = qs.filter(status=status)
    # waiting first, then active, then ended; within, the oldest wait first
    return qs.alias(status_rank=_status_rank()).order_by(
        "status_rank", F("waiting_since").asc(nulls_last=True), "started_at"
    )


def _status_rank():
    return Case(
        When(status=Status.WAITING, then=Value(0)),
        When(status=Status.ACTIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def session_for_staff(pk: int) -> ChatSession:
    try:
        return ChatSession.objects.select_related("assigned_agent").get(pk=pk)
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc


# --- inbox and conversation page (the admin back office) ----------------------------

INBOX_PREVIEW_CHARS = 160
TRANSCRIPT_LIMIT = 500
MESSAGE_SEARCH_MIN_CHARS = 3
OPEN_STATUSES = (Status.WAITING, Status.ACTIVE)


def inbox_sessions(*, agent, queryset: QuerySet[ChatSession] | None = None) -> QuerySet[ChatSession]:
    """Chats with every inbox column as an annotation, in inbox order.

    Columns: ``last_message_preview`` and ``last_message_author`` (the last message between
    customer and agent, notes and system lines left out, trimmed in SQL);
    ``waiting_since_for_inbox`` (when the customer's current wait began: the chat's start
    for a waiting chat nobody wrote in yet); ``unread_count`` (customer messages after
    ``agent_read_message_id``, for open chats that are ``agent``'s or nobody's; None
    otherwise). Each is a correlated subquery on the message cursor index, so the page
    costs the same number of queries whatever the number of rows.

    Order: waiting chats, then active, then ended; within, the longest wait first, then the
    most recent activity. Migration 0004 indexes exactly this order on PostgreSQL.
    """
    qs = ChatSession.objects.all() if queryset is None else queryset
    last_message = ChatMessage.objects.filter(
        session=OuterRef("pk"),
        author__in=[ChatMessage.Author.CUSTOMER, ChatMessage.Author.AGENT],
        is_internal=False,
    ).order_by("-id")
    unread = (
        ChatMessage.objects.filter(
            session=OuterRef("pk"),
            author=ChatMessage.Author.CUSTOMER,
            id__gt=OuterRef("agent_read_message_id"),
        )
        .order_by()
        .values("session")
        .annotate(count=Count("id"))
        .values("count")
    )
    own_or_unassigned = Q(assigned_agent__isnull=True) | Q(assigned_agent=getattr(agent, "pk", None))
    return (
        qs.annotate(
            last_message_preview=Subquery(
                last_message.annotate(preview=Left("content", INBOX_PREVIEW_CHARS)).values("preview")[:1]
            ),
            last_message_author=Subquery(last_message.values("author")[:1]),
            waiting_since_for_inbox=_inbox_wait(),
            unread_count=Case(
                When(
                    Q(status__in=OPEN_STATUSES) & own_or_unassigned,
                    then=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
                ),
                default=None,
                output_field=IntegerField(),
            ),
        )
        .alias(inbox_rank=_status_rank(), inbox_recent=Coalesce("last_message_at", "started_at"))
        .order_by(*INBOX_ORDERING)
    )


def _inbox_wait():
    return Case(
        When(status=Status.WAITING, then=Coalesce("waiting_since", "started_at")),
        When(status=Status.ACTIVE, then=F("waiting_since")),
        default=None,
        output_field=DateTimeField(),
    )


INBOX_ORDERING = (
    F("inbox_rank").asc(),
    F("waiting_since_for_inbox").asc(nulls_last=True),
    F("inbox_recent").desc(),
    F("id").desc(),
)


def inbox_filter(queryset: QuerySet[ChatSession], *, tab: str, agent) -> QuerySet[ChatSession]:
    """One inbox tab: waiting, mine (my open chats), active, ended; anything else is all."""
    if tab == "waiting":
        return queryset.filter(status=Status.WAITING)
    if tab == "mine":
        return queryset.filter(status__in=OPEN_STATUSES, assigned_agent=agent)
    if tab == "active":
        return queryset.filter(status=Status.ACTIVE)
    if tab == "ended":
        return queryset.filter(status=Status.ENDED)
    return queryset


def inbox_tab_counts(*, agent) -> dict:
    """Open chats per tab, in one query over the (few) open rows."""
    return ChatSession.objects.filter(status__in=OPEN_STATUSES).aggregate(
        waiting=Count("id", filter=Q(status=Status.WAITING)),
        active=Count("id", filter=Q(status=Status.ACTIVE)),
        mine=Count("id", filter=Q(assigned_agent=getattr(agent, "pk", None))),
    )


def inbox_search(queryset: QuerySet[ChatSession], term: str) -> QuerySet[ChatSession]:
    """Every word must match the name, e-mail, tracking code, chat number or a message.

    Message text is matched with EXISTS, so a chat with many matching messages is still one
    row (a join would repeat it and force a DISTINCT over the whole result). The chat's own
    fields are matched in a subquery of chat ids, which PostgreSQL answers from one trigram
    index (migration 0005) instead of testing three LIKEs on every chat. Words shorter than
    three characters are not looked up in messages: they match nearly every chat, and
    trigram indexes cannot serve them.
    """
    for word in _search_words(term):
        field_matches = ChatSession.objects.filter(
            Q(customer_name__icontains=word)
            | Q(customer_email__icontains=word)
            | Q(tracking_code__icontains=word)
        ).values("pk")
        matches = Q(pk__in=field_matches)
        if len(word) >= MESSAGE_SEARCH_MIN_CHARS:
            matches |= Exists(ChatMessage.objects.filter(session=OuterRef("pk"), content__icontains=word))
        number = word.removeprefix("#")
        if number.isdigit() and len(number) < 19:
            matches |= Q(pk=int(number))
        queryset = queryset.filter(matches)
    return queryset


def _search_words(term: str) -> list[str]:
    words = []
    for bit in smart_split(term or ""):
        if bit[:1] in "\"'" and bit[-1:] == bit[:1]:
            bit = unescape_string_literal(bit)
        bit = bit.strip()
        if bit:
            words.append(bit)
    return words[:8]


def transcript(*, session: ChatSession, limit: int = TRANSCRIPT_LIMIT) -> list[ChatMessage]:
    """The last ``limit`` messages of a chat, internal notes included, oldest first."""
    latest = ChatMessage.objects.filter(session_id=session.pk).select_related("agent").order_by("-id")[:limit]
    return list(reversed(latest))


def reply_capable_agents() -> QuerySet:
    """Active staff who may answer chats, with their number of active chats."""
    User = get_user_model()
    app_label, codename = REPLY_PERMISSION.split(".")
    has_reply = (
        Q(is_superuser=True)
        | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
        | Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    )
    eligible = User.objects.filter(has_reply).values("pk")
    return (
        User.objects.filter(pk__in=eligible, is_active=True, is_staff=True)
        .annotate(active_chats=Count("assigned_sessions", filter=Q(assigned_sessions__status=Status.ACTIVE)))
        .order_by("display_name", "first_name", "username")
    )


def canned_responses() -> list[dict]:
    return list(CannedResponse.objects.order_by("shortcut").values("shortcut", "title", "text"))
