"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query.

Every agent reply checks the reply permission (chat.services.can_reply). Django's backend
reads a user's own permissions and their groups' permissions in two queries, once per
request; here one UNION reads both. Everything else (password check, is_active, the
per-request cache on the user object) is Django's.
"""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                own = self._get_user_permissions(user_obj)
                from_groups = self._get_group_permissions(user_obj)
                perms = (
                    own.values_list("content_type__app_label", "codename")
                    .order_by()
                    .union(from_groups.values_list("content_type__app_label", "codename").order_by())
                )
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache
