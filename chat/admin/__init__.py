"""The agents' back office in the Django admin: the inbox and conversation (chats.py, with
inbox.py and conversation.py), who is online (team.py), canned responses (canned.py) and
holidays (hours.py)."""

from chat.analytics import admin as analytics_admin  # noqa: F401  (the metrics' admin registers itself)

from . import canned, chats, hours  # noqa: F401  (register their admins)
