"""Admin sign-in limited against password guessing.

Failures are counted in the shared cache (Redis in production) per username and client IP,
and per client IP alone (one address trying many usernames). Past a limit, the sign-in form
refuses every attempt, right password included, until the window ends. Plugged into the
default ``admin.site`` through its ``login_form`` hook (jtchat/urls.py).
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jtchat.network import client_ip

logger = logging.getLogger(__name__)


def _key(*parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f"admin-login-failures:{digest}"


def _failure_keys(username: str, ip: str) -> list[tuple[str, int]]:
    return [
        (_key("user", username.strip().lower(), ip), settings.ADMIN_LOGIN_FAILURES_PER_USER),
        (_key("ip", ip), settings.ADMIN_LOGIN_FAILURES_PER_IP),
    ]


def login_locked(username: str, ip: str) -> bool:
    keys = _failure_keys(username, ip)
    counts = cache.get_many([key for key, _limit in keys])
    return any(counts.get(key, 0) >= limit for key, limit in keys)


def record_login_failure(username: str, ip: str) -> None:
    for key, _limit in _failure_keys(username, ip):
        # The window starts at the first failure (add is a no-op when the key exists).
        cache.add(key, 0, timeout=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)


def clear_login_failures(username: str, ip: str) -> None:
    """A successful sign-in forgets that user's failures (not the address's)."""
    cache.delete(_failure_keys(username, ip)[0][0])


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "too_many_attempts": _("Too many failed sign-in attempts. Wait %(minutes)d minutes and try again."),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) or "unknown"
        if login_locked(username, ip):
            logger.warning("admin sign-in refused: too many failures", extra={"client_ip": ip})
            raise ValidationError(
                self.error_messages["too_many_attempts"],
                code="too_many_attempts",
                params={"minutes": max(settings.ADMIN_LOGIN_LOCKOUT_SECONDS // 60, 1)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_login_failure(username, ip)
            raise
        clear_login_failures(username, ip)
        return cleaned
