"""The one write path of the chat domain.

Every change of state (open a session, post a message, claim, transfer, end, rate, mark
read, close idle chats) is a function here. Each validates, writes inside a transaction and
schedules its live events with :func:`chat.events.send_event_on_commit`; each public
function that announces runs in :func:`chat.events.publishing_batch`, so that its events
reach Redis in one round trip. The REST API, the admin, the consumers and the management
commands call these functions and nothing else.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import selectors, statements
from .classifier import classify
from .events import (
    QUEUE_GROUP,
    publishing_batch,
    send_agent_event_on_commit,
    send_event_on_commit,
    session_group,
)
from .exceptions import (
    AlreadyClaimed,
    AlreadyRated,
    InvalidInput,
    NotPermitted,
    SessionEnded,
    SessionNotFound,
)
from .models import ChatMessage, ChatSession, Issue
from .serializers import agent_session_payload, message_payload, public_session_payload

REPLY_PERMISSION = selectors.REPLY_PERMISSION
MAX_COMMENT_LENGTH = 1000

Author = ChatMessage.Author
Status = ChatSession.Status
EndedBy = ChatSession.EndedBy


@dataclass(frozen=True)
class PostResult:
    message: ChatMessage
    created: bool
    announced: dict | None = None  # the payload the message's live event carried

    @property
    def payload(self) -> dict:
        """The message as clients see it: the answer to its sender repeats its live event."""
        return self.announced if self.announced is not None else message_payload(self.message)


# --- helpers -------------------------------------------------------------------------


def can_reply(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(REPLY_PERMISSION)
    )


def _require_reply_permission(agent) -> None:
    if not can_reply(agent):
        raise NotPermitted(_("Only agents with the reply permission can answer chats."))


def _clean_content(content) -> str:
    if not isinstance(content, str):
        raise InvalidInput(fields={"content": [_("Must be text.")]})
    text = content.strip()
    if not text:
        raise InvalidInput(fields={"content": [_("The message is empty.")]})
    if len(text) > settings.CHAT_MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            fields={
                "content": [
                    _("The message is too long (at most %(max)d characters).")
                    % {"max": settings.CHAT_MAX_MESSAGE_LENGTH}
                ]
            }
        )
    return text


def _clean_rating(rating) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(fields={"rating": [_("The rating must be a whole number from 1 to 5.")]})
    return rating


def _system_text(message: str, **params) -> str:
    """System messages are stored in the product's language, whatever the request's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(message) % params if params else _(message)


def _add_system_message(session: ChatSession, text: str, now) -> ChatMessage:
    message = ChatMessage.objects.create(session=session, author=Author.SYSTEM, content=text, created_at=now)
    _announce_message(session, message)
    return message


def _announce_message(session: ChatSession, message: ChatMessage) -> dict:
    payload = message_payload(message)
    if not message.is_internal:
        send_event_on_commit(session_group(session.pk), {"type": "message", "message": payload})
    _announce_to_agents(session, {"type": "message", "message": payload}, change=False)
    return payload


def _announce_session(session: ChatSession, *, change: bool = True) -> None:
    """``change``: status or assignment changed; otherwise activity (a rating)."""
    send_event_on_commit(
        session_group(session.pk),
        # assigned_agent: for the customer's socket (where its typing goes), never forwarded.
        {
            "type": "session",
            "session": public_session_payload(session),
            "assigned_agent": session.assigned_agent_id,
        },
    )
    event = {"type": "session", "session": agent_session_payload(session)}
    if not change:
        event["activity"] = True
    _announce_to_agents(session, event, change=change)


def _announce_inbox_activity(session: ChatSession) -> None:
    """A message moved the chat's waiting/answered times: refresh its inbox row."""
    event = {"type": "session", "session": agent_session_payload(session), "activity": True}
    _announce_to_agents(session, event, change=False)


def _announce_to_agents(session: ChatSession, event: dict, *, change: bool) -> None:
    """Every agents' event names its chat, the chat's agent and status (for the sockets and
    the pages to decide). A ``change`` of status or assignment goes to every agent; activity
    only to the chat's agent and its transcript's watchers, unless the chat is waiting."""
    event.update(session_id=session.pk, assigned_agent=session.assigned_agent_id, status=session.status)
    send_agent_event_on_commit(
        event, session_pk=session.pk, assigned_agent_id=session.assigned_agent_id, everyone=change
    )


def _announce_queue() -> None:
    """Tell waiting customers that the queue moved (each socket works out its position)."""
    transaction.on_commit(_send_queue_snapshot)


def _send_queue_snapshot() -> None:
    snapshot = selectors.queue_snapshot()
    send_event_on_commit(QUEUE_GROUP, {"type": "queue", **snapshot})


# --- sessions ------------------------------------------------------------------------


@publishing_batch()
def session_open(
    *,
    customer_name: str = "",
    customer_email: str = "",
    tracking_code: str = "",
    topic: str = "",
    user_ip: str | None = None,
    user_agent: str = "",
) -> ChatSession:
    """Open a chat. It waits in the queue unless auto-assignment finds an agent."""
    errors = {}
    customer_name = (customer_name or "").strip()
    customer_email = (customer_email or "").strip()
    tracking_code = (tracking_code or "").strip().upper()
    if len(customer_name) > 120:
        errors["customer_name"] = [_("At most 120 characters.")]
    if customer_email:
        try:
            validate_email(customer_email)
        except ValidationError:
            errors["customer_email"] = [_("Enter a valid e-mail address.")]
    if len(tracking_code) > 40:
        errors["tracking_code"] = [_("At most 40 characters.")]
    if topic and topic not in Issue.values:
        errors["topic"] = [_("Unknown topic.")]
    if errors:
        raise InvalidInput(fields=errors)

    with transaction.atomic():
        session = ChatSession.objects.create(
            customer_name=customer_name,
            customer_email=customer_email,
            tracking_code=tracking_code,
            topic=topic or "",
            issue=topic if topic and topic != Issue.OTHER else "",
            user_ip=user_ip or None,
            user_agent=(user_agent or "")[:512],
        )
        _announce_to_agents(
            session, {"type": "session", "session": agent_session_payload(session), "new": True}, change=True
        )
        _announce_queue()
        if settings.CHAT_AUTO_ASSIGN:
            agent = _pick_agent_for_new_chat()
            if agent is not None:
                try:
                    session = session_claim(session=session, agent=agent)
                except AlreadyClaimed:
                    pass
    return session


def _pick_agent_for_new_chat():
    """The accepting agent with the fewest active chats, below the per-agent maximum."""
    return (
        selectors.reply_capable_agents()
        .filter(accepting_chats=True, active_chats__lt=settings.CHAT_AGENT_MAX_ACTIVE_CHATS)
        .order_by("active_chats", "pk")
        .first()
    )


@publishing_batch()
def session_claim(*, session: ChatSession, agent) -> ChatSession:
    """Take a waiting chat. Exactly one of several agents claiming at once wins.

    The guard is the conditional UPDATE itself (status still waiting, no agent yet), so
    two concurrent claims cannot both succeed whatever the isolation level.
    """
    _require_reply_permission(agent)
    now = timezone.now()
    with transaction.atomic():
        won = ChatSession.objects.filter(
            pk=session.pk, status=Status.WAITING, assigned_agent__isnull=True
        ).update(status=Status.ACTIVE, assigned_agent=agent)
        current = ChatSession.objects.select_related("assigned_agent").get(pk=session.pk)
        if not won:
            if current.status == Status.ENDED:
                raise SessionEnded()
            if current.assigned_agent_id == agent.pk:
                return current
            holder = current.assigned_agent.public_name if current.assigned_agent else ""
            raise AlreadyClaimed(agent_name=holder)
        joined = _system_text(gettext_noop("%(agent)s joined the chat."), agent=agent.public_name)
        _add_system_message(current, joined, now)
        _announce_session(current)
        _announce_queue()
    return current


@publishing_batch()
def session_transfer(*, session: ChatSession, agent, to_agent) -> ChatSession:
    """Hand an open chat to another agent (who must be allowed to reply)."""
    _require_reply_permission(agent)
    if not can_reply(to_agent):
        raise InvalidInput(fields={"to_agent": [_("This person cannot answer chats.")]})
    now = timezone.now()
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().get(pk=session.pk)
        if current.status == Status.ENDED:
            raise SessionEnded()
        if current.assigned_agent_id == to_agent.pk:
            return current
        was_waiting = current.status == Status.WAITING
        current.assigned_agent = to_agent
        current.status = Status.ACTIVE
        current.agent_read_message_id = 0
        current.save(update_fields=["assigned_agent", "status", "agent_read_message_id"])
        _add_system_message(
            current,
            _system_text(gettext_noop("The chat was transferred to %(agent)s."), agent=to_agent.public_name),
            now,
        )
        _announce_session(current)
        if was_waiting:
            _announce_queue()
    return current


@publishing_batch()
def session_end(
    *,
    session: ChatSession,
    ended_by: str,
    agent=None,
    rating: int | None = None,
    comment: str = "",
) -> ChatSession:
    """End a chat (idempotent: ending an ended chat changes nothing but may rate it)."""
    if ended_by not in EndedBy.values:
        raise InvalidInput(fields={"ended_by": [_("Unknown value.")]})
    if ended_by == EndedBy.AGENT and (agent is None or not agent.is_staff):
        raise NotPermitted()
    if rating is not None:
        rating = _clean_rating(rating)
    comment = _clean_comment(comment)
    now = timezone.now()
    with transaction.atomic():
        current = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("assigned_agent")
            .get(pk=session.pk)
        )
        if current.status == Status.ENDED:
            if rating is not None:
                return _rate_locked(current, rating, comment)
            return current
        was_waiting = current.status == Status.WAITING
        current.status = Status.ENDED
        current.ended_at = now
        current.ended_by = ended_by
        current.waiting_since = None
        fields = ["status", "ended_at", "ended_by", "waiting_since"]
        if rating is not None:
            current.satisfaction_rating = rating
            current.satisfaction_comment = comment
            fields += ["satisfaction_rating", "satisfaction_comment"]
        current.save(update_fields=fields)
        if ended_by == EndedBy.CUSTOMER:
            text = _system_text(gettext_noop("The customer ended the chat."))
        elif ended_by == EndedBy.AGENT:
            text = _system_text(gettext_noop("%(agent)s ended the chat."), agent=agent.public_name)
        else:
            text = _system_text(gettext_noop("The chat was closed for inactivity."))
        _add_system_message(current, text, now)
        _announce_session(current)
        if was_waiting:
            _announce_queue()
    return current


def _clean_comment(comment) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidInput(fields={"comment": [_("Must be text.")]})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            fields={"comment": [_("At most %(max)d characters.") % {"max": MAX_COMMENT_LENGTH}]}
        )
    return comment


@publishing_batch()
def session_rate(*, session: ChatSession, rating: int, comment: str = "") -> ChatSession:
    """Rate an ended chat 1–5. Rating again with the same value is a harmless retry."""
    rating = _clean_rating(rating)
    comment = _clean_comment(comment)
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().get(pk=session.pk)
        if current.status != Status.ENDED:
            raise InvalidInput(fields={"rating": [_("Only an ended chat can be rated.")]})
        return _rate_locked(current, rating, comment)


def _rate_locked(current: ChatSession, rating: int, comment: str) -> ChatSession:
    if current.satisfaction_rating is not None:
        if current.satisfaction_rating == rating:
            return current
        raise AlreadyRated()
    current.satisfaction_rating = rating
    current.satisfaction_comment = comment
    current.save(update_fields=["satisfaction_rating", "satisfaction_comment"])
    _announce_session(current, change=False)
    return current


def session_mark_read(*, session: ChatSession, agent, up_to_message_id: int) -> None:
    """Record that the assigned agent has seen the transcript up to a message id."""
    if session.assigned_agent_id != getattr(agent, "pk", None):
        return
    # Never past the chat's last message: a mark ahead of it would hide the next ones.
    last_seen = (
        ChatMessage.objects.filter(session_id=session.pk, id__lte=up_to_message_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if last_seen is None:
        return
    ChatSession.objects.filter(
        pk=session.pk, assigned_agent=agent, agent_read_message_id__lt=last_seen
    ).update(agent_read_message_id=last_seen)


def close_idle_sessions(*, minutes: int) -> int:
    """End open chats with no message for ``minutes``; returns how many were closed."""
    if minutes < 1:
        raise InvalidInput(fields={"minutes": [_("Must be at least 1.")]})
    older_than = timezone.now() - timedelta(minutes=minutes)
    still_idle = Q(status__in=[Status.WAITING, Status.ACTIVE]) & (
        Q(last_message_at__lt=older_than) | Q(last_message_at__isnull=True, started_at__lt=older_than)
    )
    closed = 0
    for session_id in selectors.idle_session_ids(older_than=older_than):
        # One chat at a time: its customer hears of the end as soon as it is committed.
        with publishing_batch(), transaction.atomic():
            # Lock, then look again: the customer may have written since the ids were read.
            session = ChatSession.objects.select_for_update().filter(still_idle, pk=session_id).first()
            if session is None:
                continue
            session_end(session=session, ended_by=EndedBy.SYSTEM)
            closed += 1
    return closed


# --- messages ------------------------------------------------------------------------


@publishing_batch()
def message_post(
    *,
    session: ChatSession | None = None,
    session_pk: int | None = None,
    session_key: uuid.UUID | str | None = None,
    author: str,
    content: str,
    client_id: uuid.UUID | None = None,
    agent=None,
    is_internal: bool = False,
) -> PostResult:
    """Store one message from the customer or an agent.

    A repeated ``client_id`` (a retried send) returns the first message and stores
    nothing. An agent's reply to a waiting chat claims it for that agent. The chat is
    ``session``, the one with primary key ``session_pk`` (staff screens) or the one a
    customer's ``session_key`` opens: found and locked here, in one query
    (SessionNotFound when there is none), which spares the callers a look-up of their own.
    The message's ``session`` is the chat as the message left it.
    """
    if session is not None:
        session_pk = session.pk
    if author == Author.AGENT:
        if is_internal:
            if agent is None or not agent.is_staff:
                raise NotPermitted()
        else:
            _require_reply_permission(agent)
    elif author == Author.CUSTOMER:
        if is_internal:
            raise InvalidInput(fields={"is_internal": [_("Customers cannot write internal notes.")]})
        agent = None
    else:
        raise InvalidInput(fields={"author": [_("Must be customer or agent.")]})
    text = _clean_content(content)

    # No look-up of the client_id before writing: a first send (nearly every send) would pay
    # for it; a retry is caught by the unique (session, client_id) constraint instead.
    try:
        if author == Author.CUSTOMER:
            return _post_customer_message(session_pk, session_key, text, client_id)
        with transaction.atomic():
            current = _lock_session(session_pk, session_key)
            return _post_locked(current, author, text, client_id, agent, is_internal)
    except IntegrityError:
        # A retry (or a concurrent one) with the same client_id: return the first message.
        if client_id is None:
            raise
        messages = ChatMessage.objects.filter(client_id=client_id)
        if session_pk is not None:
            messages = messages.filter(session_id=session_pk)
        else:
            messages = messages.filter(session__session_id=selectors.parse_session_key(session_key))
        existing = messages.select_related("session", "agent").first()
        if existing is None:
            raise
        # Announced again: the first attempt's events may have died with it (a worker killed
        # between the commit and the publish), and a client only retries when it got no
        # answer. Clients drop a message id they already have.
        return PostResult(existing, created=False, announced=_announce_message(existing.session, existing))


def _lock_session(session_pk: int | None, session_key) -> ChatSession:
    locked = ChatSession.objects.select_for_update()
    try:
        if session_pk is not None:
            return locked.get(pk=session_pk)
        return locked.get(session_id=selectors.parse_session_key(session_key))
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc


def _post_customer_message(session_pk, session_key, text, client_id) -> PostResult:
    """A customer's message: the open chat stamped and the message stored in one statement
    on PostgreSQL, two elsewhere (chat/statements.py)."""
    now = timezone.now()
    if session_pk is None:
        session_key = selectors.parse_session_key(session_key)
    message = ChatMessage(author=Author.CUSTOMER, content=text, created_at=now, client_id=client_id)
    posted = statements.post_to_open_chat(
        session_pk=session_pk,
        session_key=session_key,
        message=message,
        now=now,
    )
    if posted is None:  # no such chat (404), or it has ended
        with transaction.atomic():
            current = _lock_session(session_pk, session_key)
            existing = _message_with_client_id(current, client_id)
        if existing is not None:  # a retry of a message sent before the end
            return PostResult(existing, created=False)
        raise SessionEnded()
    current, message = posted
    if current.issue in ("", Issue.OTHER):
        # A label derived from the text, so it is written on its own: guarded, it never
        # overwrites a concurrent one, and if it were lost the next message would set it.
        issue = classify(text, current.topic)
        if issue != current.issue:
            ChatSession.objects.filter(pk=current.pk, issue=current.issue).update(issue=issue)
            current.issue = issue
    payload = _announce_message(current, message)
    if current.waiting_since == now:  # this message started the wait for an answer
        _announce_inbox_activity(current)
    return PostResult(message, created=True, announced=payload)


def _message_with_client_id(session: ChatSession, client_id) -> ChatMessage | None:
    if client_id is None:
        return None
    return ChatMessage.objects.filter(session_id=session.pk, client_id=client_id).first()


def _post_locked(current, author, text, client_id, agent, is_internal) -> PostResult:
    """An agent's reply or note, the chat's row locked (customers: _post_customer_message)."""
    if current.status == Status.ENDED:
        # A retry of a message sent before the chat ended still gets its first answer.
        existing = _message_with_client_id(current, client_id)
        if existing is not None:
            return PostResult(existing, created=False)
        raise SessionEnded()

    now = timezone.now()
    if author == Author.AGENT and not is_internal and current.status == Status.WAITING:
        # Replying to a waiting chat claims it; the guarded claim decides the race.
        current = session_claim(session=current, agent=agent)
        now = timezone.now()

    message = ChatMessage(
        session=current,
        author=author,
        agent=agent,
        content=text,
        created_at=now,
        client_id=client_id,
        is_internal=is_internal,
    )
    fields = []
    if not is_internal:
        if current.waiting_since is not None:
            message.response_seconds = max((now - current.waiting_since).total_seconds(), 0.0)
            current.waiting_since = None
            fields.append("waiting_since")
        if current.first_response_at is None:
            current.first_response_at = now
            fields.append("first_response_at")
        current.last_message_at = now
        fields.append("last_message_at")
    message.save()
    if author == Author.AGENT and current.assigned_agent_id == agent.pk:
        current.agent_read_message_id = message.pk
        fields.append("agent_read_message_id")
        current.assigned_agent = agent  # the events name the agent: no look-up needed
    if fields:
        current.save(update_fields=fields)
    message.session = current
    payload = _announce_message(current, message)
    if "waiting_since" in fields or "first_response_at" in fields:
        _announce_inbox_activity(current)
    return PostResult(message, created=True, announced=payload)


# --- agent availability --------------------------------------------------------------


@publishing_batch()
def agent_availability_changed() -> None:
    """Tell waiting customers that the number of available agents changed (after commit)."""
    _announce_queue()


# --- LGPD: personal data retention ------------------------------------------------------


@dataclass(frozen=True)
class AnonymizeResult:
    sessions: int
    messages: int


def removed_message_text() -> str:
    """What an anonymized message says, in the product's language."""
    return _system_text(gettext_noop("[removed]"))


def sessions_anonymize(*, older_than_days: int, include_messages: bool = False) -> AnonymizeResult:
    """Blank the personal data of chats that ended more than ``older_than_days`` ago.

    Blanked: IP address, user agent, name, e-mail, tracking code and rating comment (and,
    with ``include_messages``, the text of customer messages and agent replies and notes).
    Kept: everything the metrics read — status, times, agent, issue, rating, response
    times — and the ChatAnalytics rows, so past and recomputed metrics do not change.
    Idempotent: chats already blank are not counted again.
    """
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int) or older_than_days < 1:
        raise InvalidInput(fields={"older_than_days": [_("Must be a whole number of days, 1 or more.")]})
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = ChatSession.objects.filter(status=Status.ENDED, ended_at__lt=cutoff)
    with transaction.atomic():
        sessions = expired.exclude(
            customer_name="",
            customer_email="",
            tracking_code="",
            user_agent="",
            satisfaction_comment="",
            user_ip__isnull=True,
        ).update(
            customer_name="",
            customer_email="",
            tracking_code="",
            user_ip=None,
            user_agent="",
            satisfaction_comment="",
        )
        messages = 0
        if include_messages:
            removed = removed_message_text()
            messages = (
                ChatMessage.objects.filter(
                    session__in=expired.values("pk"), author__in=[Author.CUSTOMER, Author.AGENT]
                )
                .exclude(content=removed)
                .update(content=removed)
            )
    return AnonymizeResult(sessions=sessions, messages=messages)
