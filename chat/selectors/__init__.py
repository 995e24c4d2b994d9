"""Reads that screens, endpoints and sockets need. Nothing here writes.

By concern: sessions.py (one chat and its messages), queue.py (the waiting queue),
inbox.py (the admin inbox), agents.py (agents and canned responses), attachments.py (files). Import from here.
"""

from .agents import agents_with_load, canned_responses, reply_capable_agents
from .attachments import attachment_for_customer, attachment_for_staff, customer_file_count
from .inbox import (
    INBOX_ORDERING,
    OPEN_STATUSES,
    inbox_filter,
    inbox_search,
    inbox_sessions,
    inbox_tab_counts,
)
from .queue import (
    DEFAULT_WAIT_PER_CHAT_SECONDS,
    QUEUE_SNAPSHOT_LIMIT,
    available_agents_count,
    average_wait_per_chat_seconds,
    estimate_wait_seconds,
    queue_position,
    queue_snapshot,
    queue_status,
)
from .sessions import (
    TRANSCRIPT_LIMIT,
    chat_for_staff,
    customer_session,
    idle_session_ids,
    messages_after,
    parse_session_key,
    session_for_staff,
    staff_sessions,
    status_rank,
    transcript,
    with_attachments,
)

__all__ = [
    "DEFAULT_WAIT_PER_CHAT_SECONDS",
    "INBOX_ORDERING",
    "OPEN_STATUSES",
    "QUEUE_SNAPSHOT_LIMIT",
    "TRANSCRIPT_LIMIT",
    "available_agents_count",
    "average_wait_per_chat_seconds",
    "agents_with_load",
    "attachment_for_customer",
    "attachment_for_staff",
    "canned_responses",
    "chat_for_staff",
    "customer_file_count",
    "customer_session",
    "estimate_wait_seconds",
    "idle_session_ids",
    "inbox_filter",
    "inbox_search",
    "inbox_sessions",
    "inbox_tab_counts",
    "messages_after",
    "parse_session_key",
    "queue_position",
    "queue_snapshot",
    "queue_status",
    "reply_capable_agents",
    "session_for_staff",
    "staff_sessions",
    "status_rank",
    "transcript",
    "with_attachments",
]
