"""What every admin chat page shares — the inbox, the conversation screen and the metrics
screen: the desk bar (alerts, the clock's zone, the live state) and the configuration its
script (static/chat/admin/desk.js) needs: who is looking, the open chats per tab for the tab
title and the tabs, the labels a live list shows, the alert strings."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import policy, selectors
from chat.models import ChatSession, Issue


def labels() -> dict:
    """Choice labels by value, for lists and panels a script keeps up to date."""
    return {
        "topics": {value: str(label) for value, label in Issue.choices},
        "statuses": {value: str(label) for value, label in ChatSession.Status.choices},
        "endedBy": {value: str(label) for value, label in ChatSession.EndedBy.choices},
    }


def duration_strings() -> dict:
    """A waiting time in a few characters (static/chat/lib/time.js ``shortDuration``)."""
    return {
        "underOneMinute": _("under 1 min"),
        "minutes": _("%(minutes)d min"),
        "hours": _("%(hours)d h %(minutes)02d min"),
        # the catalog's plural entry, in its one-day and many-days forms
        "day": ngettext("%(days)d day", "%(days)d days", 1),
        "days": ngettext("%(days)d day", "%(days)d days", 2),
    }


def desk_context(request, *, counts: dict | None = None) -> dict:
    """The template context of the desk bar; empty for someone who may not view chats (the
    bar, its socket and its alerts are for people who may)."""
    user = request.user
    if not policy.can(user, policy.VIEW_CHATS):
        return {}
    if counts is None:
        counts = selectors.inbox_tab_counts(agent=user)
    return {
        "desk_config": {
            "userId": user.pk,
            "accepting": bool(getattr(user, "accepting_chats", False)) and policy.can(user, policy.REPLY),
            "counts": counts,
            "mineIds": selectors.open_chat_ids(agent=user),
            "slaSeconds": settings.CHAT_SLA_FIRST_RESPONSE_SECONDS,
            "urls": {
                "change": reverse("admin:chat_chatsession_change", args=[0]),
                "inbox": reverse("admin:chat_chatsession_changelist"),
                "rows": reverse("admin:chat_chatsession_rows"),
            },
            "labels": labels(),
            "strings": {
                "newChat": _("New chat"),
                "newChatFrom": _("%(customer)s is waiting"),
                "customer": _("Customer"),
                "customerNumber": _("Customer #%(id)s"),
                "filesOnly": "📎 " + _("Photo or document"),  # a last message of files alone
                "alertsBlocked": _(
                    "Desktop notifications are blocked in this browser: only the title and the chime."
                ),
                "zone": _("Times in %(zone)s time (%(offset)s)"),
                "live": _("Live"),
                "offline": _("Reconnecting…"),
                **duration_strings(),
            },
        },
        "websocket_url": settings.CHAT_WEBSOCKET_URL,
    }
