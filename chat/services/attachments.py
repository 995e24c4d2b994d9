"""Sending files: a customer's or an agent's message with attachments.

The files are checked and prepared first (typed by content, images re-encoded:
chat/attachments/), then stored, all before any database work: the slow part holds no lock
and no transaction. The message then goes through the one write path of every message
(chat/services/messages.py), which writes the attachment rows in the message's own
transaction, before the message is announced. So a message and its files are stored together
or not at all, and a retried ``client_id`` returns the first message, as for text: when it
is known before the upload is read it costs nothing; when a concurrent attempt wins, the
files this one stored are deleted.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from chat import policy, selectors
from chat.attachments import files as prepared_files
from chat.attachments import storage
from chat.exceptions import FileQuotaReached, SessionEnded
from chat.live import announce
from chat.live.events import publishing_batch
from chat.models import ChatAttachment, ChatMessage, ChatSession

from .messages import PostResult, agent_message_post, customer_message_post


@dataclass
class StoredFiles:
    """Files checked and stored, whose rows the message's transaction writes."""

    prepared: list
    names: list = field(default_factory=list)  # (file, thumbnail) per prepared file
    customer_quota: bool = False

    def attach(self, chat: ChatSession, message: ChatMessage) -> list[ChatAttachment]:
        """Called by the message services with the chat's row locked: the quota is exact."""
        if self.customer_quota:
            check_quota(chat.pk, len(self.prepared))
        rows = [
            ChatAttachment(
                message=message,
                session_id=chat.pk,
                file=name,
                thumbnail=thumbnail,
                created_at=message.created_at,
                **item.row_fields(),
            )
            for item, (name, thumbnail) in zip(self.prepared, self.names, strict=True)
        ]
        return ChatAttachment.objects.bulk_create(rows)

    def discard(self) -> None:
        storage.delete_now(name for pair in self.names for name in pair)


def check_quota(session_pk: int, adding: int) -> None:
    limit = settings.CHAT_ATTACHMENT_MAX_PER_CHAT
    if selectors.customer_file_count(session_pk) + adding > limit:
        raise FileQuotaReached(
            _("This chat already has the most files it can take (%(max)d).") % {"max": limit}
        )


@publishing_batch()
def customer_files_post(*, session_key, files: Sequence, caption: str = "", client_id=None) -> PostResult:
    """The customer's message with ``files`` (Django UploadedFiles) and an optional caption."""
    prepared_files.check_count(len(files))
    chat = selectors.customer_session(session_key)
    retried = _retried(chat, client_id)
    if retried is not None:
        return retried
    if chat.is_ended:
        raise SessionEnded()
    check_quota(chat.pk, len(files))
    stored = _prepare_and_store(files, customer_quota=True)
    return _post(
        stored,
        lambda: customer_message_post(
            session_key=chat.session_id, content=caption, client_id=client_id, files=stored
        ),
    )


@publishing_batch()
def agent_files_post(
    *, session_pk: int, agent, files: Sequence, caption: str = "", client_id=None, is_internal: bool = False
) -> PostResult:
    """An agent's reply (or internal note) with ``files`` and an optional caption."""
    policy.require(agent, policy.WRITE_NOTES if is_internal else policy.REPLY)
    prepared_files.check_count(len(files))
    chat = selectors.session_for_staff(session_pk)
    retried = _retried(chat, client_id)
    if retried is not None:
        return retried
    if chat.is_ended:
        raise SessionEnded()
    stored = _prepare_and_store(files)
    return _post(
        stored,
        lambda: agent_message_post(
            session_pk=chat.pk,
            agent=agent,
            content=caption,
            client_id=client_id,
            is_internal=is_internal,
            files=stored,
        ),
    )


def _retried(chat: ChatSession, client_id) -> PostResult | None:
    """A retry of a message already stored: the first one, announced again (its first
    attempt may have died between the commit and the announcement)."""
    if client_id is None:
        return None
    existing = (
        selectors.with_attachments(ChatMessage.objects.filter(session_id=chat.pk, client_id=client_id))
        .select_related("agent")
        .first()
    )
    if existing is None:
        return None
    return PostResult(existing, created=False, announced=announce.message(chat, existing))


def _prepare_and_store(uploads: Sequence, *, customer_quota: bool = False) -> StoredFiles:
    stored = StoredFiles(prepared=[], customer_quota=customer_quota)
    try:
        for upload in uploads:
            stored.prepared.append(prepared_files.prepare(upload))
        for item in stored.prepared:
            name = storage.save(item.content, item.format.extension)
            stored.names.append((name, ""))
            if item.thumbnail is not None:
                stored.names[-1] = (name, storage.save(item.thumbnail, "jpg", thumbnail=True))
    except BaseException:
        stored.discard()
        raise
    finally:
        for item in stored.prepared:
            item.close()
    return stored


def _post(stored: StoredFiles, post) -> PostResult:
    try:
        result = post()
    except BaseException:
        stored.discard()
        raise
    if not result.created:  # a concurrent attempt with the same client_id was first
        stored.discard()
    return result
