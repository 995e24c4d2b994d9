"""Agents and what they use: who may answer chats, who is here and free to, how busy they
are, and canned responses.

*Available* = online (an agent socket open: chat/live/presence.py), allowed to answer chats
(the access policy's REPLY), accepting new chats (*Pausar* off) and below
``CHAT_AGENT_MAX_ACTIVE_CHATS`` active chats. The queue estimate, auto-assignment, the
transfer list and every "agents available" figure read it here.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from chat import policy
from chat.live import presence
from chat.models import CannedResponse, ChatSession

logger = logging.getLogger(__name__)
Status = ChatSession.Status


def agents_with_load(users: QuerySet) -> QuerySet:
    """``users`` with their number of active chats, in name order."""
    return users.annotate(
        active_chats=Count("assigned_sessions", filter=Q(assigned_sessions__status=Status.ACTIVE))
    ).order_by("display_name", "first_name", "username")


def reply_capable_agents() -> QuerySet:
    """Active staff who may answer chats, with their number of active chats."""
    return agents_with_load(policy.users_who_can(policy.REPLY))


def online_agent_ids() -> set[int]:
    """Who has an agent socket open; nobody when the presence store does not answer."""
    try:
        return presence.online_agent_ids()
    except presence.PresenceUnavailable:
        logger.warning("presence store unreachable: counting no agent online")
        return set()


def online_reply_capable_agents(online_ids: set[int] | None = None) -> QuerySet:
    """Agents online now who may answer chats, with their load (whether accepting or not)."""
    ids = online_agent_ids() if online_ids is None else online_ids
    return reply_capable_agents().filter(pk__in=ids)


def available_agents(online_ids: set[int] | None = None) -> QuerySet:
    """Agents who can take a chat now: online, may answer, accepting, under the maximum."""
    return online_reply_capable_agents(online_ids).filter(
        accepting_chats=True, active_chats__lt=settings.CHAT_AGENT_MAX_ACTIVE_CHATS
    )


@dataclass(frozen=True)
class AgentCounts:
    available: int  # can take a chat now
    staffed: int  # online and accepting, some of them at their maximum (busy)
    online: int  # online and allowed to answer, accepting or not


def agent_counts() -> AgentCounts:
    """How many agents are available, staffed and online: one presence read and, when anyone
    is online, one query (a row per online agent)."""
    ids = online_agent_ids()
    if not ids:
        return AgentCounts(0, 0, 0)
    rows = list(online_reply_capable_agents(ids).order_by().values_list("accepting_chats", "active_chats"))
    limit = settings.CHAT_AGENT_MAX_ACTIVE_CHATS
    staffed = [active for accepting, active in rows if accepting]
    return AgentCounts(
        available=sum(1 for active in staffed if active < limit), staffed=len(staffed), online=len(rows)
    )


def is_available(user) -> bool:
    return available_agents().filter(pk=user.pk).exists()


@dataclass(frozen=True)
class TeamMember:
    user: object
    online_since: datetime
    active_chats: int
    accepting: bool
    available: bool


def team_presence() -> list[TeamMember]:
    """Who is online now (agents allowed to answer chats), since when, with their load:
    two presence reads and one query."""
    try:
        online = presence.online_agents()
    except presence.PresenceUnavailable:
        logger.warning("presence store unreachable: showing no agent online")
        return []
    if not online:
        return []
    limit = settings.CHAT_AGENT_MAX_ACTIVE_CHATS
    return [
        TeamMember(
            user=user,
            online_since=online[user.pk],
            active_chats=user.active_chats,
            accepting=user.accepting_chats,
            available=user.accepting_chats and user.active_chats < limit,
        )
        for user in online_reply_capable_agents(set(online))
    ]


def transfer_targets(*, exclude_agent_id: int | None = None) -> list:
    """Who a chat may be handed to now, with their load (``active_chats``), in name order:
    the available agents (online, accepting, under the maximum), whom the transfer service
    accepts, but the chat's own agent."""
    agents = available_agents()
    if exclude_agent_id is not None:
        agents = agents.exclude(pk=exclude_agent_id)
    return list(agents)


def canned_responses() -> list[dict]:
    return list(CannedResponse.objects.order_by("shortcut").values("shortcut", "title", "text"))
