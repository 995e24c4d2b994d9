"""Agents and what they use: who may answer chats and how busy they are, canned responses."""

from django.db.models import Count, Q, QuerySet

from chat import policy
from chat.models import CannedResponse, ChatSession

Status = ChatSession.Status


def agents_with_load(users: QuerySet) -> QuerySet:
    """``users`` with their number of active chats, in name order."""
    return users.annotate(
        active_chats=Count("assigned_sessions", filter=Q(assigned_sessions__status=Status.ACTIVE))
    ).order_by("display_name", "first_name", "username")


def reply_capable_agents() -> QuerySet:
    """Active staff who may answer chats, with their number of active chats."""
    return agents_with_load(policy.users_who_can(policy.REPLY))


def canned_responses() -> list[dict]:
    return list(CannedResponse.objects.order_by("shortcut").values("shortcut", "title", "text"))
