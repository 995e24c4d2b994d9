from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class UsernameValidator(ASCIIUsernameValidator):
    """Letters A–Z, digits and @ . + - _ , written out: Django's ``\\w`` also takes ``è`` in
    Python, but not in the JavaScript-style patterns of the OpenAPI schema, so the schema and
    the API would disagree about ``joão``. Sign-in names, not display names (those take any
    letter)."""

    regex = r"^[A-Za-z0-9_.@+-]+\Z"
    flags = 0


class User(AbstractUser):
    """A person who signs in to the admin. Agents and managers are staff users."""

    username = models.CharField(
        _("username"),
        max_length=150,
        unique=True,
        help_text=_("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
        validators=[UsernameValidator()],
        error_messages={"unique": _("A user with that username already exists.")},
    )

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
