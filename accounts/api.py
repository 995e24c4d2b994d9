from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, viewsets

from chat.permissions import IsStaff


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, min_length=8, style={"input_type": "password"}
    )
    public_name = serializers.CharField(read_only=True)
    groups = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

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
        read_only_fields = ["id", "groups"]

    def create(self, validated_data):
        password = validated_data.pop("password", None)
        user = get_user_model()(**validated_data)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return user

    def update(self, instance, validated_data):
        password = validated_data.pop("password", None)
        user = super().update(instance, validated_data)
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff may read; writing needs the model's add/change/delete permission."""

    message = _("Only managers can change users.")


class UserViewSet(viewsets.ModelViewSet):
    """Agents and managers (staff only; writes need user-management permission)."""

    serializer_class = UserSerializer
    permission_classes = [IsStaff, StaffModelPermissions]
    queryset = get_user_model().objects.prefetch_related("groups").order_by("username")
