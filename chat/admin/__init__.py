"""The agents' back office in the Django admin: the inbox and conversation (chats.py, with
inbox.py and conversation.py), canned responses (canned.py)."""

from chat.analytics import admin as analytics_admin  # noqa: F401  (the metrics' admin registers itself)

from . import canned, chats  # noqa: F401  (register their admins)
