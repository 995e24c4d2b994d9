"""The one write path of the chat domain.

Every change of state is a function here: open a chat, post a message, claim, transfer,
end, rate, mark read, close idle chats, anonymise. Each validates, writes inside a
transaction and announces its live events after commit (chat/live/announce.py); each runs in
``publishing_batch`` so a call's events reach Redis in one round trip. The REST API, the
admin, the consumers and the management commands call these functions and nothing else.

By concern: sessions.py (a chat's life), messages.py (posting), attachments.py (posting
files), assignment.py (who answers), retention.py (LGPD), jobs.py (scheduled commands' last
runs). Import from here.
"""

from .assignment import session_claim, session_transfer, user_set_accepting_chats
from .attachments import agent_files_post, customer_files_post
from .common import MAX_COMMENT_LENGTH
from .jobs import job_run
from .messages import PostResult, agent_message_post, customer_message_post
from .retention import AnonymizeResult, removed_message_text, sessions_anonymize
from .sessions import (
    close_idle_sessions,
    session_customer_seen,
    session_end,
    session_mark_read,
    session_open,
    session_rate,
    session_reopen,
    session_set_customer_email,
)

__all__ = [
    "MAX_COMMENT_LENGTH",
    "AnonymizeResult",
    "PostResult",
    "agent_files_post",
    "agent_message_post",
    "close_idle_sessions",
    "customer_files_post",
    "customer_message_post",
    "job_run",
    "removed_message_text",
    "session_claim",
    "session_customer_seen",
    "session_end",
    "session_mark_read",
    "session_open",
    "session_rate",
    "session_reopen",
    "session_set_customer_email",
    "session_transfer",
    "sessions_anonymize",
    "user_set_accepting_chats",
]
