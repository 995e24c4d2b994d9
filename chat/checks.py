"""Start-up checks of the chat's settings (run by ``manage.py check``, ``migrate`` and
``runserver``; Render's pre-deploy ``migrate`` stops a deploy that fails them)."""

from django.conf import settings
from django.core.checks import Error, register

from .hours import parse_business_hours


@register()
def business_hours_check(app_configs=None, **kwargs):
    try:
        parse_business_hours(settings.CHAT_BUSINESS_HOURS)
    except ValueError as exc:
        return [
            Error(
                f"CHAT_BUSINESS_HOURS: {exc}.",
                hint='Write e.g. "mon-fri 08:00-20:00; sat 08:00-12:00", or leave it empty (always open).',
                id="chat.E001",
            )
        ]
    return []
