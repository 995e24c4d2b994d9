"""Users in the admin: managers add agents, set their groups and service-desk profile.

Who may change whom is the access policy's (chat/policy.py, asked through ``has_perm``), and
every save goes through accounts/services.py, as the API's do: managers never edit a
superuser (nor set one's password), never hand out superuser status or single permissions,
never change their own groups or staff status, and give only groups whose permissions they
hold. Every password set here passes Django's validators.
"""

import copy
from functools import partial

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from jtchat.network import client_ip

from . import services
from .models import User

SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")
RIGHTS_FIELDS = ("is_staff", "groups")


class PasswordForm(AdminPasswordChangeForm):
    """Django's form (its validators run in ``clean``), saved through the users service."""

    def __init__(self, user, *args, actor=None, ip=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.actor, self.ip = actor, ip

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return services.user_set_password(actor=self.actor, user=self.user, password=password, ip=self.ip)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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

    # --- who may: the access policy ------------------------------------------------------

    def has_module_permission(self, request):
        return request.user.has_perm("policy.manage_users")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("policy.manage_users")

    def has_add_permission(self, request):
        return request.user.has_perm("policy.manage_users")

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return request.user.has_perm("policy.manage_users")
        return request.user.has_perm("policy.manage_user", obj)

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead (it closes their sockets); only a superuser deletes.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += SUPERUSER_ONLY_FIELDS
        if obj is not None and not request.user.has_perm("policy.change_rights", obj):
            readonly += RIGHTS_FIELDS
        return tuple(dict.fromkeys(readonly))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            grantable = [
                group.pk
                for group in Group.objects.all()
                if request.user.has_perm("policy.grant_group", group)
            ]
            kwargs["queryset"] = Group.objects.filter(pk__in=grantable)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- saving: the users service -------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.user_save(
            actor=request.user,
            user=obj,
            groups=data["groups"] if "groups" in data else None,
            permissions=data["user_permissions"] if "user_permissions" in data else None,
            ip=client_ip(request),
        )

    def save_related(self, request, form, formsets, change):
        # Groups and permissions were saved by the service (save_model); only inlines remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def user_change_password(self, request, id, form_url=""):
        # Django's view, on a copy of this admin whose form saves through the service as the
        # signed-in manager (the form is built inside the view, which passes only the user).
        bound = copy.copy(self)
        bound.change_password_form = partial(PasswordForm, actor=request.user, ip=client_ip(request))
        return BaseUserAdmin.user_change_password(bound, request, id, form_url)
