"""The agents' back office in the Django admin: the inbox and conversation (chats.py, with
inbox.py and conversation.py), canned responses (canned.py)."""

from chat import admin_metrics  # noqa: F401  (managers' metrics screen registers itself)

from . import canned, chats  # noqa: F401  (register their admins)
