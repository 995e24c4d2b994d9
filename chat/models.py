"""The chat domain's tables. Writes go through chat/services/ only."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Issue(models.TextChoices):
    """Categories of customer problems; also the topics a customer may pick."""

    TRACKING = "rastreamento", _("Tracking")
    DELAY = "atraso_entrega", _("Delay / delivery")
    ADDRESS = "endereco", _("Address")
    DAMAGE = "avaria_extravio", _("Damage / lost parcel")
    RETURN = "devolucao", _("Return")
    BILLING = "cobranca", _("Billing")
    SERVICE = "atendimento", _("Customer service")
    OTHER = "outro", _("Other")


class EmailStatus(models.TextChoices):
    """Where a chat's reply e-mail stands (ReplyEmail.status, and its chat's last one)."""

    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent")
    SKIPPED = "skipped", _("Not needed")


class ChatSession(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class EndedBy(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    id = models.BigAutoField(primary_key=True)
    # The customer's secret: whoever holds it acts as that customer. Never put it in a URL.
    session_id = models.UUIDField(_("session key"), default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.WAITING)

    customer_name = models.CharField(_("name"), max_length=120, blank=True)
    customer_email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    tracking_code = models.CharField(_("tracking code"), max_length=40, blank=True)
    topic = models.CharField(_("topic"), max_length=20, choices=Issue, blank=True)
    user_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)

    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_sessions",
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=10, choices=EndedBy, blank=True)
    # Denormalised so that the inbox sorts and the metrics aggregate without scanning messages.
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    waiting_since = models.DateTimeField(
        _("waiting since"),
        null=True,
        blank=True,
        help_text=_("Oldest customer message not yet answered; empty when the agent spoke last."),
    )
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    # Highest message id the assigned agent has seen, for the inbox's unread count.
    agent_read_message_id = models.BigIntegerField(default=0)
    # When the customer's socket last opened or closed: replies after it reach them by e-mail
    # (chat/services/emails.py). Their presence now is in chat/live/presence.py.
    customer_seen_at = models.DateTimeField(_("customer last seen"), null=True, blank=True)
    # How the service stood when the chat opened (chat.selectors.service_status).
    opened_without_agents = models.BooleanField(
        _("opened with no agent available"),
        default=False,
        help_text=_("Nobody was online and free to answer when the customer opened the chat."),
    )
    opened_outside_hours = models.BooleanField(_("opened outside business hours"), default=False)
    # The last reply e-mail's state, for the inbox and the conversation page (ReplyEmail).
    email_status = models.CharField(_("reply e-mail"), max_length=10, choices=EmailStatus, blank=True)

    issue = models.CharField(_("issue"), max_length=20, choices=Issue, blank=True)
    satisfaction_rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    satisfaction_comment = models.TextField(_("comment"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        ordering = ["-started_at"]
        # What each grants is in chat/policy.py; the groups get them by migration.
        permissions = [
            ("reply_chatsession", _("Can reply to chats")),
            ("note_chatsession", _("Can write internal notes")),
            ("claim_chatsession", _("Can take chats")),
            ("transfer_chatsession", _("Can transfer chats")),
            ("end_chatsession", _("Can end chats")),
        ]
        indexes = [
            models.Index(fields=["status", "waiting_since"], name="chat_session_queue_idx"),
            models.Index(fields=["started_at"], name="chat_session_started_idx"),
            models.Index(fields=["assigned_agent", "status"], name="chat_session_agent_idx"),
            models.Index(fields=["status", "last_message_at"], name="chat_session_idle_idx"),
            models.Index(fields=["ended_at"], name="chat_session_ended_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction_rating__isnull=True)
                | Q(satisfaction_rating__gte=1, satisfaction_rating__lte=5),
                name="chat_session_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_name or _('Customer')}"

    @property
    def is_ended(self) -> bool:
        return self.status == self.Status.ENDED


class ChatMessage(models.Model):
    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    # Increasing: the catch-up cursor (`after=<id>`).
    id = models.BigAutoField(primary_key=True)
    # No index of its own: chat_message_cursor_idx (session, id) serves every lookup by chat.
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author = models.CharField(_("author"), max_length=10, choices=Author)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_messages",
    )
    content = models.TextField(_("content"), max_length=4000)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    client_id = models.UUIDField(_("client id"), null=True, blank=True)
    is_internal = models.BooleanField(_("internal note"), default=False)
    response_seconds = models.FloatField(_("response time (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["session", "id"], name="chat_message_cursor_idx"),
            models.Index(fields=["created_at"], name="chat_message_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_message_unique_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_author_display()}: {self.content[:40]}"


class ChatAnalytics(models.Model):
    """One row per local day, written only by chat.analytics.daily (fields: chat/analytics/registry.py)."""

    date = models.DateField(_("date"), unique=True)
    total_sessions = models.PositiveIntegerField(_("sessions"), default=0)
    total_messages = models.PositiveIntegerField(_("messages"), default=0)
    customer_messages = models.PositiveIntegerField(_("customer messages"), default=0)
    agent_messages = models.PositiveIntegerField(_("agent messages"), default=0)
    answered_sessions = models.PositiveIntegerField(_("answered sessions"), default=0)
    abandoned_sessions = models.PositiveIntegerField(_("abandoned sessions"), default=0)
    # The counts behind the averages, so that a period's averages combine days exactly.
    ended_sessions = models.PositiveIntegerField(_("ended sessions"), default=0)
    timed_replies = models.PositiveIntegerField(_("timed agent replies"), default=0)
    avg_session_duration = models.FloatField(_("average duration (s)"), null=True, blank=True)
    frt_avg = models.FloatField(_("first response, average (s)"), null=True, blank=True)
    frt_median = models.FloatField(_("first response, median (s)"), null=True, blank=True)
    frt_p90 = models.FloatField(_("first response, p90 (s)"), null=True, blank=True)
    avg_response_time = models.FloatField(_("response time, average (s)"), null=True, blank=True)
    response_time_median = models.FloatField(_("response time, median (s)"), null=True, blank=True)
    satisfaction_avg = models.FloatField(_("satisfaction, average"), null=True, blank=True)
    ratings_count = models.PositiveIntegerField(_("ratings"), default=0)
    csat_share = models.FloatField(_("CSAT (share of 4–5)"), null=True, blank=True)
    sla_share = models.FloatField(_("SLA share"), null=True, blank=True)
    chats_with_attachments = models.PositiveIntegerField(_("chats with files"), default=0)
    # Chats opened outside business hours, and chats whose customer got a reply by e-mail.
    opened_outside_hours = models.PositiveIntegerField(_("opened outside hours"), default=0)
    answered_by_email = models.PositiveIntegerField(_("answered by e-mail"), default=0)
    common_issues = models.JSONField(_("common issues"), default=list, blank=True)
    per_agent = models.JSONField(_("per agent"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("daily metrics")
        verbose_name_plural = _("daily metrics")
        ordering = ["-date"]
        permissions = [
            ("view_metrics", _("Can view the metrics screen")),
            ("export_metrics", _("Can export metrics and conversations as CSV")),
        ]

    def __str__(self) -> str:
        return str(self.date)


class CannedResponse(models.Model):
    title = models.CharField(_("title"), max_length=80)
    shortcut = models.SlugField(
        _("shortcut"),
        max_length=30,
        unique=True,
        help_text=_("Typed as /shortcut in the reply box, e.g. rastreio."),
    )
    text = models.TextField(_("text"), max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut} — {self.title}"


class ChatAttachment(models.Model):
    """A file sent with a message: an image (re-encoded, without metadata) or a PDF.

    ``file`` and ``thumbnail`` are names in the ``attachments`` storage (settings.STORAGES),
    never the sender's file name; both are blank once the file was removed (retention). The
    row stays, so that the metrics of past days can be computed again.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="attachments")
    # Denormalised: a chat's quota, its files on deletion and the metrics read it without messages.
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    content_type = models.CharField(_("type"), max_length=50)
    name = models.CharField(_("file name"), max_length=150, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    file = models.CharField(max_length=200, blank=True)
    thumbnail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def is_removed(self) -> bool:
        return not self.file


class ReplyEmail(models.Model):
    """Agents' replies e-mailed to a customer who left (chat/services/emails.py).

    A chat has at most one e-mail waiting at a time; every reply made before it goes out
    joins it, so several replies within a few minutes make one e-mail. It carries the
    agent replies made after the previous e-mail and after the customer was last seen.
    Failed sends are retried with growing delays until ``MAX_ATTEMPTS``; ``last_error``
    names the failure, never the address or the text.
    """

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="reply_emails")
    status = models.CharField(_("status"), max_length=10, choices=EmailStatus, default=EmailStatus.PENDING)
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    # The last reply carried (set when the e-mail is taken for sending), and how many.
    last_message_id = models.BigIntegerField(null=True, blank=True)
    reply_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reply e-mail")
        verbose_name_plural = _("reply e-mails")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "due_at"], name="chat_reply_email_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status="pending"),
                name="chat_reply_email_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.session_id} {self.get_status_display()}"


class Holiday(models.Model):
    """A day the service is closed, whatever CHAT_BUSINESS_HOURS says (managed in the admin)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class JobRun(models.Model):
    """The last run of each scheduled command, one row per command, for the metrics.

    The commands run as processes of their own (Render cron jobs) that exit long before
    Prometheus next scrapes; they leave their last success here, in the database every job
    already uses, and /metrics reads it (chat/instruments.py).
    """

    command = models.CharField(_("command"), max_length=64, unique=True)
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success at"), null=True, blank=True)
    last_duration_seconds = models.FloatField(_("last run's duration (s)"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure at"), null=True, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self) -> str:
        return self.command
