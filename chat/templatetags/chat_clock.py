"""``{{ value|clock }}``: a time the page's script draws again in the browser's zone.

One clock on the agents' pages: a server-drawn time is a ``<time datetime data-clock>``
(static/chat/lib/clock.js rewrites it in the agent's zone and names the zone), showing
``TIME_ZONE``'s reading until the script runs.
"""

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

register = template.Library()


@register.filter
def clock(value, kind: str = "time"):
    """``kind``: "time" (14:05) or "datetime" (31/05/2026 14:05)."""
    if not value:
        return ""
    local = timezone.localtime(value)
    shown = local.strftime("%H:%M") if kind == "time" else date_format(local, "d/m/Y H:i")
    return format_html('<time datetime="{}" data-clock="{}">{}</time>', local.isoformat(), kind, shown)
