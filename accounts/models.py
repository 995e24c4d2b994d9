from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in to the admin. Agents and managers are staff users."""

    display_name = models.CharField(
        _("display name"),
        max_length=60,
        blank=True,
        help_text=_("Shown to customers. Defaults to the first name or username."),
    )
    accepting_chats = models.BooleanField(
        _("accepting chats"),
        default=True,
        help_text=_("Counted as an available agent and eligible for new chats."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def public_name(self) -> str:
        return self.display_name or self.first_name or self.username
