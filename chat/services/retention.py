"""LGPD: personal data of old chats blanked after the retention period."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import services as audit
from chat.attachments import storage
from chat.exceptions import InvalidInput
from chat.models import ChatAttachment, ChatMessage, ChatSession

from .common import system_text

Status = ChatSession.Status
Author = ChatMessage.Author


@dataclass(frozen=True)
class AnonymizeResult:
    sessions: int
    messages: int
    files: int = 0


def removed_message_text() -> str:
    """What an anonymized message says, in the product's language."""
    return system_text(gettext_noop("[removed]"))


def sessions_anonymize(*, older_than_days: int, include_messages: bool = False) -> AnonymizeResult:
    """Blank the personal data of chats that ended more than ``older_than_days`` ago.

    Blanked: IP address, user agent, name, e-mail, tracking code and rating comment (and,
    with ``include_messages``, the text of customer messages and agent replies and notes,
    and their files: the rows keep kind, type and size for the metrics, lose the name, and
    the files and thumbnails are deleted from the storage once this commits).
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
        messages = files = 0
        if include_messages:
            removed = removed_message_text()
            messages = (
                ChatMessage.objects.filter(
                    session__in=expired.values("pk"), author__in=[Author.CUSTOMER, Author.AGENT]
                )
                .exclude(content=removed)
                .update(content=removed)
            )
            files = _remove_files(ChatAttachment.objects.filter(session__in=expired.values("pk")))
        audit.record(
            actor=None,  # a scheduled job (Render's cron) or an operator's shell
            action=audit.Action.ANONYMIZED,
            target=f"ended before {cutoff:%Y-%m-%d}",
            detail=f"{sessions} chats, {messages} messages, {files} files",
        )
    return AnonymizeResult(sessions=sessions, messages=messages, files=files)


def _remove_files(attachments) -> int:
    """Forget the files of ``attachments`` (rows locked while read) and delete them from the
    storage after commit."""
    kept = list(attachments.exclude(file="").select_for_update().values_list("pk", "file", "thumbnail"))
    if not kept:
        return 0
    ChatAttachment.objects.filter(pk__in=[pk for pk, _file, _thumb in kept]).update(
        name="", file="", thumbnail=""
    )
    storage.delete_on_commit([name for _pk, *names in kept for name in names])
    return len(kept)
