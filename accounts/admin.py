from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "is_staff", "accepting_chats", "is_active")
    list_filter = ("is_staff", "accepting_chats", "is_active", "groups")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Service desk"), {"fields": ("display_name", "accepting_chats")}),
    )
