"""ChatSessionAdmin: the inbox (its changelist), the conversation (its change page) and who
is online (team/).

Chats are read here and changed only through the services: every write is a POST to a URL
of its own (chat/admin/conversation.py) or an inbox action (chat/admin/inbox.py).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from chat import policy
from chat.models import ChatSession

from .conversation import ConversationMixin
from .inbox import InboxMixin
from .team import TeamMixin


@admin.register(ChatSession)
class ChatSessionAdmin(InboxMixin, ConversationMixin, TeamMixin, admin.ModelAdmin):
    fieldsets = (
        (
            gettext_lazy("Customer"),
            {"fields": ("customer_name", "customer_email", "tracking_code", "topic", "issue")},
        ),
        (
            gettext_lazy("Chat"),
            {
                "fields": (
                    "status",
                    "agent_name",
                    "started_at",
                    "first_response_at",
                    "waiting_since",
                    "ended_at",
                    "ended_by",
                )
            },
        ),
        (gettext_lazy("Rating"), {"fields": ("satisfaction_rating", "satisfaction_comment")}),
        (
            gettext_lazy("Device"),
            {"fields": ("user_ip", "user_agent"), "classes": ("collapse",)},
        ),
    )
    readonly_fields = tuple(field for _name, options in fieldsets for field in options["fields"])

    # --- permissions: the access policy's; chats are changed only through the services --

    def has_module_permission(self, request):
        return policy.can(request.user, policy.VIEW_CHATS)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, policy.VIEW_CHATS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_claim_permission(self, request):
        return policy.can(request.user, policy.CLAIM)

    def has_end_permission(self, request):
        return policy.can(request.user, policy.END)

    @admin.display(description=gettext_lazy("agent"))
    def agent_name(self, session):
        return session.assigned_agent.public_name if session.assigned_agent_id else "—"
