"""Holidays: the days the service is closed, whatever CHAT_BUSINESS_HOURS says (managers)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from chat import policy, selectors
from chat.models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name")
    fields = ("date", "name")
    date_hierarchy = "date"

    def has_module_permission(self, request):
        return policy.can(request.user, policy.MANAGE_HOURS)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, policy.MANAGE_HOURS)

    def has_add_permission(self, request):
        return policy.can(request.user, policy.MANAGE_HOURS)

    def has_change_permission(self, request, obj=None):
        return policy.can(request.user, policy.MANAGE_HOURS)

    def has_delete_permission(self, request, obj=None):
        return policy.can(request.user, policy.MANAGE_HOURS)

    def changelist_view(self, request, extra_context=None):
        # The weekly hours come from the setting: shown here so managers see the whole week.
        extra_context = {
            **(extra_context or {}),
            "subtitle": gettext_lazy("The chat is closed on these days, whatever the weekly hours say."),
            "weekly_hours": selectors.weekly_hours(),
        }
        return super().changelist_view(request, extra_context)
