"""Who is online now (managers): each agent with an admin chat page open, since when, their
load against CHAT_AGENT_MAX_ACTIVE_CHATS, and whether they are paused — the presence behind
the queue's "agents available" (chat/live/presence.py)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import policy, selectors

from . import desk
from .inbox import short_duration


class TeamMixin:
    """The "who is online" screen of ChatSessionAdmin (chat/admin/chats.py)."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("team/", self.admin_site.admin_view(self.team_view), name=f"{info}_team"),
        ] + super().get_urls()

    def team_view(self, request):
        if not policy.can(request.user, policy.VIEW_METRICS):
            raise PermissionDenied
        now = timezone.now()
        members = [
            {
                "name": member.user.public_name,
                "username": member.user.username,
                "since": member.online_since,
                "for": short_duration((now - member.online_since).total_seconds()),
                "active_chats": member.active_chats,
                "accepting": member.accepting,
                "available": member.available,
            }
            for member in selectors.team_presence()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Who is online"),
            "opts": self.opts,
            "members": members,
            "available": sum(1 for member in members if member["available"]),
            "max_chats": settings.CHAT_AGENT_MAX_ACTIVE_CHATS,
            "service": selectors.service_status(),
            "as_of": now,
            "inbox_url": reverse("admin:chat_chatsession_changelist"),
            **desk.desk_context(request),  # alerts, and its times in the manager's zone
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/chat/team.html", context)
