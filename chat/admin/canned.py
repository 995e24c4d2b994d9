"""Canned responses: the texts agents insert with /shortcut."""

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from chat import policy
from chat.models import CannedResponse


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("shortcut_column", "title", "text_preview", "updated_at")
    list_display_links = ("shortcut_column", "title")
    search_fields = ("shortcut", "title", "text")
    fields = ("title", "shortcut", "text")

    def has_module_permission(self, request):
        return policy.can(request.user, policy.USE_CANNED)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, policy.USE_CANNED)

    def has_add_permission(self, request):
        return policy.can(request.user, policy.MANAGE_CANNED)

    def has_change_permission(self, request, obj=None):
        return policy.can(request.user, policy.MANAGE_CANNED)

    def has_delete_permission(self, request, obj=None):
        return policy.can(request.user, policy.MANAGE_CANNED)

    @admin.display(description=gettext_lazy("shortcut"), ordering="shortcut")
    def shortcut_column(self, canned):
        return f"/{canned.shortcut}"

    @admin.display(description=gettext_lazy("text"))
    def text_preview(self, canned):
        return Truncator(canned.text).chars(100)
