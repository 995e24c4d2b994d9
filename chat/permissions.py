from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from .policy import can_reply


class IsStaff(BasePermission):
    message = _("Only signed-in agents can use this endpoint.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class CanReply(IsStaff):
    message = _("Only agents with the reply permission can answer chats.")

    def has_permission(self, request, view):
        return can_reply(request.user)


class CanViewMetrics(IsStaff):
    message = _("Only managers can see the metrics.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm("chat.view_metrics")
