"""The users API (/api/users/): managers list, create and change agents and managers.

Every write goes through accounts/services.py, which asks the access policy who may change
whom and runs Django's password validators; this module only maps requests to it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, serializers, viewsets

from jtchat.network import client_ip

from . import services


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    public_name = serializers.CharField(read_only=True)
    groups = serializers.SlugRelatedField(
        many=True, required=False, slug_field="name", queryset=Group.objects.all()
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
        return self.instance


class ManagesUsers(permissions.BasePermission):
    """The access policy's "manage users" (chat/policy.py), asked through has_perm."""

    message = _("Only managers can change users.")

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.has_perm("policy.manage_users")
        )


class UserViewSet(
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
