"""The audit trail of access to personal data in bulk (LGPD): who, what, which, when, from where."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        EXPORT_DAILY = "export_daily", _("Exported the daily metrics (CSV)")
        EXPORT_CONVERSATIONS = "export_conversations", _("Exported the conversations (CSV)")
        TRANSCRIPT = "transcript", _("Downloaded a transcript")
        USER_CREATED = "user_created", _("Created a user")
        USER_CHANGED = "user_changed", _("Changed a user")
        USER_DEACTIVATED = "user_deactivated", _("Deactivated a user")
        PASSWORD_SET = "password_set", _("Set a user's password")
        ANONYMIZED = "anonymized", _("Anonymised old chats")

    # The actor's name is kept beside the link, so an entry still says who after the user goes.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=Action)
    target = models.CharField(_("what"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or '—'}: {self.get_action_display()}"
