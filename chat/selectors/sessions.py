"""Reads of one chat and its messages, for the API, the admin and the sockets."""

import uuid

from django.db.models import Case, F, IntegerField, Prefetch, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from chat import links, policy
from chat.exceptions import InvalidInput, LinkInvalid, SessionNotFound
from chat.models import ChatAttachment, ChatMessage, ChatSession, ReplyEmail
from jtchat.api_fields import UUID_TEXT

Status = ChatSession.Status
TRANSCRIPT_LIMIT = 500


def parse_session_key(value) -> uuid.UUID:
    """A customer's session key from a body or header value; bad shapes are a 400."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(fields={"session_id": [_("Send the chat's session_id.")]})
    if not UUID_TEXT.match(value.strip()):
        raise InvalidInput(fields={"session_id": [_("Invalid session_id.")]})
    return uuid.UUID(value.strip())


def customer_session(session_key) -> ChatSession:
    """The chat a customer's key opens, or SessionNotFound."""
    key = parse_session_key(session_key)
    try:
        return ChatSession.objects.select_related("assigned_agent").get(session_id=key)
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc


def chat_for_staff(user, pk: int, capability: policy.Capability = policy.VIEW_CHATS) -> ChatSession:
    """Chat ``pk`` for a staff member who may do ``capability`` with it: NotPermitted (403)
    when they may not, SessionNotFound (404) when there is no such chat. Every staff door
    (API, admin, agent socket) reads a chat through here."""
    policy.require(user, capability)
    return session_for_staff(pk)


def session_for_staff(pk: int) -> ChatSession:
    """Chat ``pk``, whoever asks: for code that already asked the policy."""
    try:
        return ChatSession.objects.select_related("assigned_agent").get(pk=pk)
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc


def with_attachments(messages: QuerySet[ChatMessage]) -> QuerySet[ChatMessage]:
    """``messages`` with their files as ``attachment_list`` (one query for all of them), which
    chat/payloads.py reads."""
    return messages.prefetch_related(
        Prefetch("attachments", queryset=ChatAttachment.objects.order_by("id"), to_attr="attachment_list")
    )


def messages_after(
    *, session: ChatSession, after: int = 0, include_internal: bool = False, limit: int = 500
) -> QuerySet[ChatMessage]:
    """Messages of one chat with id > ``after``, oldest first (the catch-up cursor)."""
    qs = ChatMessage.objects.filter(session_id=session.pk, id__gt=after)
    if not include_internal:
        qs = qs.filter(is_internal=False)
    return with_attachments(qs.select_related("agent").order_by("id"))[:limit]


def transcript(*, session: ChatSession, limit: int | None = TRANSCRIPT_LIMIT) -> list[ChatMessage]:
    """The last ``limit`` messages of a chat (all with None), internal notes included, oldest
    first."""
    latest = with_attachments(
        ChatMessage.objects.filter(session_id=session.pk).select_related("agent").order_by("-id")
    )[:limit]
    return list(reversed(latest))


def staff_sessions(*, user, status: str | None = None) -> QuerySet[ChatSession]:
    """The chats ``user`` may see, waiting first, then active, then ended; within, the
    oldest wait first."""
    qs = policy.visible_chats(user, ChatSession.objects.select_related("assigned_agent"))
    if status:
        qs = qs.filter(status=status)
    # waiting first, then active, then ended; within, the oldest wait first
    return qs.alias(status_rank=status_rank()).order_by(
        "status_rank", F("waiting_since").asc(nulls_last=True), "started_at"
    )


def status_rank():
    return Case(
        When(status=Status.WAITING, then=Value(0)),
        When(status=Status.ACTIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def idle_session_ids(*, older_than) -> list[int]:
    return list(
        ChatSession.objects.filter(status__in=[Status.WAITING, Status.ACTIVE])
        .annotate(last_activity=Coalesce("last_message_at", "started_at"))
        .filter(last_activity__lt=older_than)
        .values_list("id", flat=True)
    )


def session_from_reopen_link(token) -> ChatSession:
    """The chat a reply e-mail's link names (chat/links.py); LinkInvalid when the token is
    forged, expired or names no chat (one answer for all: nothing is revealed)."""
    chat_id = links.chat_id_from_token(token)
    session = (
        ChatSession.objects.select_related("assigned_agent").filter(pk=chat_id).first() if chat_id else None
    )
    if session is None:
        raise LinkInvalid()
    return session


def reply_emails(session: ChatSession) -> list[ReplyEmail]:
    """The chat's reply e-mails, newest first, for the conversation page."""
    return list(ReplyEmail.objects.filter(session_id=session.pk).order_by("-id")[:10])
