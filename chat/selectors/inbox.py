"""The admin inbox: every column as an annotation, tabs, counts and search."""

from django.db.models import (
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
from django.utils.text import smart_split, unescape_string_literal

from chat.models import ChatMessage, ChatSession

from .sessions import status_rank

Status = ChatSession.Status
INBOX_PREVIEW_CHARS = 160
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
        .alias(inbox_rank=status_rank(), inbox_recent=Coalesce("last_message_at", "started_at"))
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
    """One inbox tab: waiting, mine (my open chats), active, ended; anything else (the
    default tab) is every open chat: ended chats are only in their own tab."""
    if tab == "waiting":
        return queryset.filter(status=Status.WAITING)
    if tab == "mine":
        return queryset.filter(status__in=OPEN_STATUSES, assigned_agent=agent)
    if tab == "active":
        return queryset.filter(status=Status.ACTIVE)
    if tab == "ended":
        return queryset.filter(status=Status.ENDED)
    return queryset.filter(status__in=OPEN_STATUSES)


def inbox_tab_counts(*, agent=None) -> dict:
    """Open chats per tab, in one query over the (few) open rows: waiting, active, open (the
    default tab: both) and, for ``agent``, mine."""
    counts = ChatSession.objects.filter(status__in=OPEN_STATUSES).aggregate(
        waiting=Count("id", filter=Q(status=Status.WAITING)),
        active=Count("id", filter=Q(status=Status.ACTIVE)),
        mine=Count("id", filter=Q(assigned_agent=getattr(agent, "pk", None))),
    )
    counts["open"] = counts["waiting"] + counts["active"]
    if agent is None:
        del counts["mine"]
    return counts


def inbox_rows(*, agent, ids) -> list[ChatSession]:
    """The chats ``ids`` with every inbox column, in inbox order: what a live list fetches
    when an event lacks a column (the last message, the unread count). One query."""
    return list(inbox_sessions(agent=agent).filter(pk__in=list(ids)).select_related("assigned_agent"))


WORKLIST_QUEUE_LIMIT = 50
WORKLIST_MINE_LIMIT = 100


def worklist(*, agent) -> dict:
    """The conversation screen's list: ``agent``'s open chats and the waiting queue (the
    longest wait first, at most WORKLIST_QUEUE_LIMIT), with the inbox's columns. Two queries."""
    chats = inbox_sessions(agent=agent).select_related("assigned_agent")
    mine = chats.filter(status__in=OPEN_STATUSES, assigned_agent=agent)[:WORKLIST_MINE_LIMIT]
    queue = chats.filter(status=Status.WAITING)[:WORKLIST_QUEUE_LIMIT]
    return {"mine": list(mine), "queue": list(queue)}


def open_chat_ids(*, agent) -> list[int]:
    """``agent``'s open chats (the inbox's *Mine*), for a page that keeps that tab's count."""
    return list(
        ChatSession.objects.filter(status__in=OPEN_STATUSES, assigned_agent=agent)
        .order_by("id")
        .values_list("id", flat=True)
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
