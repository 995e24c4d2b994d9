"""Reply e-mails: an agent's answer reaches a customer who left the page.

When an agent replies to a chat with an e-mail address whose customer has no socket open
(chat/live/presence.py), the reply's transaction keeps a pending :class:`ReplyEmail` for the
chat, due once the customer has been away ``CHAT_EMAIL_AFTER_MINUTES`` and at least
``CHAT_EMAIL_BATCH_SECONDS`` after that first reply; every reply made before it goes out
joins it, so several replies within a few minutes make one e-mail. Nothing is sent while
the reply's request runs: ``send_due_emails`` (``manage.py send_reply_emails``, every minute
on Render's cron) sends what is due, so a slow or broken mail server never delays or fails
a reply.

Sending one e-mail: the chat is locked for a moment to choose the replies it carries (those
after the previous e-mail and after the customer was last seen; none if the customer came
back, in which case it is skipped), then it is sent outside any transaction, then marked
sent or failed. A failure is retried with growing delays (``RETRY_MINUTES``), up to
``MAX_ATTEMPTS``, and shows on the chat as "e-mail not sent" (``email_status``) from the
first failure; an address the server refuses is not retried. A crash while sending leaves
the e-mail "sending"; after ``STALE_SENDING_MINUTES`` it is sent again (at least once).
Logs name the chat and the failure, never the address or the text.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import links
from chat.live import announce, presence
from chat.live.events import publishing_batch
from chat.models import ChatMessage, ChatSession, EmailStatus, ReplyEmail

logger = logging.getLogger(__name__)

RETRY_MINUTES = (1, 2, 4, 8, 15, 30, 60)  # then every hour
MAX_ATTEMPTS = 10  # about four hours of trying
STALE_SENDING_MINUTES = 10
MAX_REPLIES_PER_EMAIL = 20
SEND_BATCH = 100


def customer_is_here(session_pk: int) -> bool:
    """Whether the customer's page is open now; an unreachable presence store counts as
    away (an e-mail too many beats an answer that never arrives)."""
    try:
        return presence.customer_connected(session_pk)
    except presence.PresenceUnavailable:
        logger.warning("presence store unreachable: treating chat %s's customer as away", session_pk)
        return False


def reply_email_schedule(*, session: ChatSession, message: ChatMessage) -> None:
    """Called by the reply's service inside its transaction (the chat's row locked): keep an
    e-mail pending for this chat if its customer is away. Never raises for presence."""
    if not settings.CHAT_EMAIL_ENABLED or message.is_internal or not session.customer_email:
        return
    if customer_is_here(session.pk):
        return
    if ReplyEmail.objects.filter(session_id=session.pk, status=EmailStatus.PENDING).exists():
        return  # the pending e-mail carries this reply too
    away_since = session.customer_seen_at or session.started_at
    due = max(
        away_since + timedelta(minutes=settings.CHAT_EMAIL_AFTER_MINUTES),
        message.created_at + timedelta(seconds=settings.CHAT_EMAIL_BATCH_SECONDS),
    )
    ReplyEmail.objects.create(session=session, due_at=due, created_at=message.created_at)
    if session.email_status != EmailStatus.FAILED:  # "not sent" stays until one is sent
        session.email_status = EmailStatus.PENDING
        ChatSession.objects.filter(pk=session.pk).update(email_status=EmailStatus.PENDING)


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def send_due_emails(*, now=None, limit: int = SEND_BATCH) -> SendResult:
    """Send every reply e-mail that is due (idempotent; safe to run in several processes)."""
    now = now or timezone.now()
    _send_again_what_a_crash_left(now)
    due = list(
        ReplyEmail.objects.filter(status=EmailStatus.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = failed = skipped = 0
    connection = None
    try:
        for pk in due:
            claimed = _claim(pk, now)
            if claimed is None:
                skipped += 1
                continue
            email, message = claimed
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                message.connection = connection
                message.send()
            except Exception as exc:  # the mail server's fault, or the network's
                failed += 1
                _failed(email.pk, exc, now)
                if connection is not None:
                    _close_quietly(connection)
                    connection = None
            else:
                sent += 1
                _sent(email.pk, now)
    finally:
        if connection is not None:
            _close_quietly(connection)
    return SendResult(sent=sent, failed=failed, skipped=skipped)


def _send_again_what_a_crash_left(now) -> None:
    """E-mails left "sending" by a run that died: pending again, unless their chat already
    has a pending one, which carries their replies too (everything not yet sent)."""
    stale = ReplyEmail.objects.filter(
        status=EmailStatus.SENDING, claimed_at__lt=now - timedelta(minutes=STALE_SENDING_MINUTES)
    )
    for email in stale:
        try:
            with transaction.atomic():
                email.status = EmailStatus.PENDING
                email.save(update_fields=["status"])
        except IntegrityError:  # the chat's one pending e-mail exists
            ReplyEmail.objects.filter(pk=email.pk).update(status=EmailStatus.SKIPPED)


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # already broken
        logger.debug("closing the mail connection failed", exc_info=True)


def unseen_replies(session: ChatSession) -> list[ChatMessage]:
    """Agent replies the customer has not had: after the last e-mail sent and after they
    were last seen (their socket catches up on everything before that)."""
    last_sent = ReplyEmail.objects.filter(session_id=session.pk, status=EmailStatus.SENT).aggregate(
        last=Max("last_message_id")
    )["last"]
    replies = (
        ChatMessage.objects.filter(
            session_id=session.pk, author=ChatMessage.Author.AGENT, is_internal=False, id__gt=last_sent or 0
        )
        .select_related("agent")
        .annotate(file_count=Count("attachments"))
    )
    if session.customer_seen_at is not None:
        replies = replies.filter(created_at__gt=session.customer_seen_at)
    return list(reversed(replies.order_by("-id")[:MAX_REPLIES_PER_EMAIL]))


def _claim(pk: int, now) -> tuple[ReplyEmail, EmailMultiAlternatives] | None:
    """Take a due e-mail for sending and build it; None when another process has it or it
    is no longer needed (the customer came back, or left no address)."""
    with transaction.atomic():
        email = (
            ReplyEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=EmailStatus.PENDING, due_at__lte=now)
            .first()
        )
        if email is None:
            return None
        # Locks out replies for a moment: one committing now is either in this e-mail or
        # finds it taken and starts the next one.
        session = ChatSession.objects.select_for_update().get(pk=email.session_id)
        replies = unseen_replies(session) if session.customer_email else []
        if not replies or customer_is_here(session.pk):
            email.status = EmailStatus.SKIPPED
            email.save(update_fields=["status"])
            if session.email_status == EmailStatus.PENDING:
                ChatSession.objects.filter(pk=session.pk).update(email_status="")
            return None
        email.status = EmailStatus.SENDING
        email.claimed_at = now
        email.attempts += 1
        email.last_message_id = replies[-1].pk
        email.reply_count = len(replies)
        email.save(update_fields=["status", "claimed_at", "attempts", "last_message_id", "reply_count"])
    return email, build_email(session, replies)


def build_email(session: ChatSession, replies: list[ChatMessage]) -> EmailMultiAlternatives:
    """The e-mail, in the product's language: plain text and HTML, replies as text (the
    templates escape everything), and the link back to the chat."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "customer_name": session.customer_name,
            "chat_id": session.pk,
            "replies": [
                {
                    "agent": reply.agent.public_name if reply.agent_id else _("Agent"),
                    "time": timezone.localtime(reply.created_at),
                    "text": reply.content,
                    # Files stay behind the chat's access rules: named here, seen there.
                    "files": (
                        ngettext(
                            "%(count)d file sent: open the chat to see it.",
                            "%(count)d files sent: open the chat to see them.",
                            reply.file_count,
                        )
                        % {"count": reply.file_count}
                        if getattr(reply, "file_count", 0)
                        else ""
                    ),
                }
                for reply in replies
            ],
            "link": links.reopen_url(session),
            "link_hours": settings.CHAT_EMAIL_LINK_MAX_AGE_HOURS,
        }
        subject = _("J&T Express answered you (chat #%(id)s)") % {"id": session.pk}
        text = render_to_string("chat/email/reply.txt", context)
        html = render_to_string("chat/email/reply.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[session.customer_email]
    )
    message.attach_alternative(html, "text/html")
    return message


def failure_text(exc: Exception) -> str:
    """What went wrong, without the server's words (they may quote the address)."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"[:200]


def _permanent(exc: Exception) -> bool:
    return isinstance(exc, smtplib.SMTPRecipientsRefused)


@publishing_batch()
def _failed(pk: int, exc: Exception, now) -> None:
    with transaction.atomic():
        email = ReplyEmail.objects.select_for_update().get(pk=pk)
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("assigned_agent")
            .get(pk=email.session_id)
        )
        email.last_error = failure_text(exc)
        retry_in = RETRY_MINUTES[min(email.attempts, len(RETRY_MINUTES)) - 1]
        newer = ReplyEmail.objects.filter(session_id=session.pk, status=EmailStatus.PENDING).first()
        if _permanent(exc) or email.attempts >= MAX_ATTEMPTS:
            email.status = EmailStatus.FAILED
        elif newer is not None:
            # A reply came while this one was being sent: the newer e-mail carries this
            # one's replies too (it carries everything not yet sent), sooner.
            email.status = EmailStatus.SKIPPED
            newer.due_at = min(newer.due_at, now + timedelta(minutes=retry_in))
            newer.save(update_fields=["due_at"])
        else:
            email.status = EmailStatus.PENDING
            email.due_at = now + timedelta(minutes=retry_in)
        email.save(update_fields=["status", "last_error", "due_at"])
        session.email_status = EmailStatus.FAILED
        session.save(update_fields=["email_status"])
        announce.session(session, change=False)
    logger.warning(
        "reply e-mail for chat %s not sent (%s, attempt %s)", session.pk, email.last_error, email.attempts
    )


@publishing_batch()
def _sent(pk: int, now) -> None:
    with transaction.atomic():
        email = ReplyEmail.objects.select_for_update().get(pk=pk)
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("assigned_agent")
            .get(pk=email.session_id)
        )
        email.status = EmailStatus.SENT
        email.sent_at = now
        email.last_error = ""
        email.save(update_fields=["status", "sent_at", "last_error"])
        session.email_status = EmailStatus.SENT
        session.save(update_fields=["email_status"])
        announce.session(session, change=False)
    logger.info("reply e-mail for chat %s sent (%s replies)", session.pk, email.reply_count)
