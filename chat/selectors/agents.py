"""Agents and what they use: who may answer chats, canned responses."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from chat.models import CannedResponse, ChatSession
from chat.policy import REPLY_PERMISSION

Status = ChatSession.Status


def reply_capable_agents() -> QuerySet:
    """Active staff who may answer chats, with their number of active chats."""
    User = get_user_model()
    app_label, codename = REPLY_PERMISSION.split(".")
    has_reply = (
        Q(is_superuser=True)
        | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
        | Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    )
    eligible = User.objects.filter(has_reply).values("pk")
    return (
        User.objects.filter(pk__in=eligible, is_active=True, is_staff=True)
        .annotate(active_chats=Count("assigned_sessions", filter=Q(assigned_sessions__status=Status.ACTIVE)))
        .order_by("display_name", "first_name", "username")
    )


def canned_responses() -> list[dict]:
    return list(CannedResponse.objects.order_by("shortcut").values("shortcut", "title", "text"))
