"""The users API (/api/users/): managers list, create and change agents and managers.

Every write goes through accounts/services.py, which asks the access policy who may change
whom and runs Django's password validators; this module only maps requests to it.
"""

from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, serializers, viewsets

from jtchat.api_fields import (
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictManyRelatedField,
    StrictSlugRelatedField,
)
from jtchat.api_query import DeclaredQuery
from jtchat.network import client_ip

from . import services


class UniqueConflict(serializers.ValidationError):
    """A value another user already has (a username): 409, with the fields, as a conflict
    with what is stored rather than a malformed request."""

    status_code = 409


class UserSerializer(serializers.ModelSerializer):
    # JSON types as the schema names them: a number is not a name, "yes" is not true.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.BooleanField: StrictBooleanField,
    }
    password = StrictCharField(
        write_only=True,
        required=False,
        min_length=services.password_min_length(),
        style={"input_type": "password"},
        help_text="Checked by Django's password validators: long enough, not entirely numeric, "
        "not too common, not too like the user's name or e-mail.",
    )
    public_name = serializers.CharField(read_only=True)
    groups = StrictManyRelatedField(
        child_relation=StrictSlugRelatedField(slug_field="name", queryset=Group.objects.all()),
        required=False,
    )

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "display_name",
            "public_name",
            "accepting_chats",
            "is_active",
            "is_staff",
            "groups",
            "password",
        ]
        read_only_fields = ["id"]

    def is_valid(self, *, raise_exception=False):
        valid = super().is_valid()
        if not valid and raise_exception:
            codes = {detail.code for details in self.errors.values() for detail in details}
            raise (UniqueConflict if codes == {"unique"} else serializers.ValidationError)(self.errors)
        return valid

    def save(self, **kwargs):
        request = self.context["request"]
        data = dict(self.validated_data)
        password = data.pop("password", None)
        groups = data.pop("groups", None)
        user = self.instance if self.instance is not None else get_user_model()()
        for name, value in data.items():
            setattr(user, name, value)
        try:
            self.instance = services.user_save(
                actor=request.user, user=user, password=password, groups=groups, ip=client_ip(request)
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        if password is not None and self.instance.pk == request.user.pk:
            update_session_auth_hash(request, self.instance)  # as the admin's form: still signed in
        return self.instance


class ManagesUsers(permissions.BasePermission):
    """The access policy's "manage users" (chat/policy.py), asked through has_perm."""

    message = _("Only managers can change users.")

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.has_perm("policy.manage_users")
        )


class UserViewSet(
    DeclaredQuery,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Agents and managers. Nobody is deleted here: deactivate them (``is_active: false``),
    which closes their sockets and ends their admin sessions."""

    serializer_class = UserSerializer
    permission_classes = [ManagesUsers]

    def get_queryset(self):
        return get_user_model().objects.prefetch_related("groups").order_by("username")
