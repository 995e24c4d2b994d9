"""DRF permission classes, one per capability of the access policy (chat/policy.py)."""

from functools import cache

from rest_framework.permissions import BasePermission

from chat import policy


@cache
def requires(capability: policy.Capability) -> type[BasePermission]:
    """The permission class that lets in whoever ``policy.can`` do ``capability``, and tells
    the others the capability's refusal (403)."""

    class Permission(BasePermission):
        message = capability.refusal

        def has_permission(self, request, view):
            return policy.can(request.user, capability)

    Permission.__name__ = Permission.__qualname__ = f"Can_{capability.name}"
    return Permission


class Nobody(BasePermission):
    """The default for a view that does not say who may use it: nobody (settings.py). Every
    endpoint names its capability, or AllowAny for the customer's side."""

    def has_permission(self, request, view):
        return False
