"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query.

Every agent reply checks the reply permission (chat.policy). Django's backend reads a
user's own permissions and their groups' permissions in two queries, once per request; here
one UNION of two public querysets reads both, and the answer is kept on the user object for
the request, as Django keeps its own. Everything else (password check, is_active, the async
checks) is Django's.
"""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission

# Where the answer is kept on the user object (a fresh user object reads it again).
CACHE_ATTRIBUTE = "permissions_read_once"


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cached = getattr(user_obj, CACHE_ATTRIBUTE, None)
        if cached is None:
            cached = {f"{app_label}.{codename}" for app_label, codename in permission_rows(user_obj)}
            setattr(user_obj, CACHE_ATTRIBUTE, cached)
        return cached


def permission_rows(user):
    """(app label, codename) of every permission ``user`` holds, its own or its groups'."""
    columns = ("content_type__app_label", "codename")
    if user.is_superuser:
        return Permission.objects.values_list(*columns)
    own = Permission.objects.filter(user=user).values_list(*columns).order_by()
    from_groups = Permission.objects.filter(group__user=user).values_list(*columns).order_by()
    return own.union(from_groups)
