from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User

# Only a superuser may grant these: a manager who could would make themselves superuser.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Managers (Gestores) add agents, set their groups and service-desk profile.

    They cannot edit a superuser (nor change one's password), nor hand out superuser
    status or single permissions: groups are how access is given.
    """

    list_display = ("username", "display_name", "email", "is_staff", "accepting_chats", "is_active")
    list_filter = ("is_staff", "accepting_chats", "is_active", "groups")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Service desk"), {"fields": ("display_name", "accepting_chats")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (_("Service desk"), {"fields": ("display_name", "is_staff", "groups")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *SUPERUSER_ONLY_FIELDS)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)
