"""The audit log in the admin: read by superusers, never written or deleted there."""

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "action", "target", "ip")
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "target", "detail")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor", "actor_name", "action", "target", "detail", "ip")
    readonly_fields = fields
    list_select_related = ("actor",)

    # Who may read it is the access policy's (chat/policy.py: superusers only).
    def has_module_permission(self, request):
        return request.user.is_staff and request.user.has_perm("policy.view_audit")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
