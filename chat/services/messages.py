"""Posting a message: the customer's (the most frequent write) and an agent's reply or note.

A repeated ``client_id`` (a retried send) returns the first message and stores nothing; the
unique (session, client_id) constraint catches it, so a first send (nearly every send) pays
for no look-up. The answer to the sender repeats the message's live event.
"""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import instruments, payloads, policy, selectors
from chat.classifier import classify
from chat.exceptions import SessionEnded, SessionNotFound
from chat.live import announce
from chat.live.events import publishing_batch
from chat.models import ChatMessage, ChatSession, Issue

from . import emails, message_sql
from .assignment import session_claim
from .common import clean_content

Author = ChatMessage.Author
Status = ChatSession.Status


@dataclass(frozen=True)
class PostResult:
    message: ChatMessage
    created: bool
    announced: dict | None = None  # the payload the message's live event carried

    @property
    def payload(self) -> dict:
        """The message as clients see it: the answer to its sender repeats its live event."""
        return self.announced if self.announced is not None else payloads.message(self.message)


@publishing_batch()
def customer_message_post(
    *, session_key: uuid.UUID | str, content: str, client_id=None, files=None
) -> PostResult:
    """Store a customer's message in the chat their key opens (SessionNotFound if none;
    SessionEnded once it ended). The open chat is stamped and the message stored in one
    statement on PostgreSQL, two elsewhere (chat/services/message_sql.py).

    ``files``: attachments already checked and stored (chat/services/attachments.py, which
    calls this); their rows are written after the message's, in one transaction with it,
    and the content may then be empty (a caption)."""
    text = clean_content(content, allow_empty=bool(files))
    key = selectors.parse_session_key(session_key)
    try:
        if files:
            with transaction.atomic():
                return _post_customer_message(key, text, client_id, files)
        return _post_customer_message(key, text, client_id)
    except IntegrityError as exc:
        return _first_post(exc, client_id, session__session_id=key)


@publishing_batch()
def agent_message_post(
    *, session_pk: int, agent, content: str, client_id=None, is_internal: bool = False, files=None
) -> PostResult:
    """Store an agent's reply (or, with ``is_internal``, a note only agents see) in chat
    ``session_pk``, found and locked here in one query. A reply to a waiting chat claims it
    for the agent. The message's ``session`` is the chat as the message left it.
    ``files``: as for :func:`customer_message_post`."""
    policy.require(agent, policy.WRITE_NOTES if is_internal else policy.REPLY)
    text = clean_content(content, allow_empty=bool(files))
    try:
        with transaction.atomic():
            try:
                current = ChatSession.objects.select_for_update().get(pk=session_pk)
            except ChatSession.DoesNotExist as exc:
                raise SessionNotFound() from exc
            return _post_locked(current, text, client_id, agent, is_internal, files)
    except IntegrityError as exc:
        return _first_post(exc, client_id, session_id=session_pk)


def _first_post(error: IntegrityError, client_id, **chat) -> PostResult:
    """A retry (or a concurrent one) with the same client_id: the first message.

    Announced again: the first attempt's events may have died with it (a worker killed
    between the commit and the publish), and a client only retries when it got no answer.
    Clients drop a message id they already have.
    """
    if client_id is None:
        raise error
    existing = selectors.with_attachments(
        ChatMessage.objects.filter(client_id=client_id, **chat).select_related("session", "agent")
    ).first()
    if existing is None:
        raise error
    return PostResult(existing, created=False, announced=announce.message(existing.session, existing))


def _post_customer_message(key: uuid.UUID, text: str, client_id, files=None) -> PostResult:
    now = timezone.now()
    message = ChatMessage(author=Author.CUSTOMER, content=text, created_at=now, client_id=client_id)
    posted = message_sql.post_to_open_chat(session_key=key, message=message, now=now)
    if posted is None:  # no such chat (404), or it has ended
        current = selectors.customer_session(key)
        existing = _message_with_client_id(current, client_id)
        if existing is not None:  # a retry of a message sent before the end
            return PostResult(existing, created=False)
        raise SessionEnded()
    current, message = posted
    message.attachment_list = files.attach(current, message) if files else []
    instruments.message_stored(Author.CUSTOMER)
    if text and current.issue in ("", Issue.OTHER):
        # A label derived from the text, so it is written on its own: guarded, it never
        # overwrites a concurrent one, and if it were lost the next message would set it.
        issue = classify(text, current.topic)
        if issue != current.issue:
            ChatSession.objects.filter(pk=current.pk, issue=current.issue).update(issue=issue)
            current.issue = issue
    payload = announce.message(current, message)
    if current.waiting_since == now:  # this message started the wait for an answer
        announce.inbox_activity(current)
    return PostResult(message, created=True, announced=payload)


def _message_with_client_id(session: ChatSession, client_id) -> ChatMessage | None:
    if client_id is None:
        return None
    return selectors.with_attachments(
        ChatMessage.objects.filter(session_id=session.pk, client_id=client_id)
    ).first()


def _post_locked(
    current: ChatSession, text: str, client_id, agent, is_internal: bool, files=None
) -> PostResult:
    """An agent's reply or note, the chat's row locked."""
    if current.status == Status.ENDED:
        # A retry of a message sent before the chat ended still gets its first answer.
        existing = _message_with_client_id(current, client_id)
        if existing is not None:
            return PostResult(existing, created=False)
        raise SessionEnded()

    now = timezone.now()
    if not is_internal and current.status == Status.WAITING:
        # Replying to a waiting chat claims it; the guarded claim decides the race.
        current = session_claim(session=current, agent=agent)
        now = timezone.now()

    message = ChatMessage(
        session=current,
        author=Author.AGENT,
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
    message.attachment_list = files.attach(current, message) if files else []
    instruments.message_stored(Author.AGENT)
    if not is_internal:
        # An e-mail for a customer who left (sent later, never by this request).
        emails.reply_email_schedule(session=current, message=message)
    if current.assigned_agent_id == agent.pk:
        current.agent_read_message_id = message.pk
        fields.append("agent_read_message_id")
        current.assigned_agent = agent  # the events name the agent: no look-up needed
    if fields:
        current.save(update_fields=fields)
    message.session = current
    payload = announce.message(current, message)
    if "waiting_since" in fields or "first_response_at" in fields:
        announce.inbox_activity(current)
    return PostResult(message, created=True, announced=payload)
