"""Who may do what: every capability of the product named once, with what grants it.

Every door asks here: the admin (``has_*_permission``, its own views and exports), the DRF
permission classes and querysets (chat/api/permissions.py), both sockets (the agent socket's
hello and ``watch``, and what a socket keeps receiving) and the services. Nothing on chat data
rests on ``is_staff`` alone: a staff user with no group can sign in and do nothing here.

| capability                        | customer | Agentes | read-only | Gestores | superuser |
|-----------------------------------|----------|---------|-----------|----------|-----------|
| own chat (read, send, end, rate)  | own key  |         |           |          |           |
| view chats, notes, agent socket   |          | yes     | yes       | yes      | yes       |
| reply, note, claim, transfer, end |          | yes     |           | yes      | yes       |
| canned responses                  |          | use     |           | manage   | manage    |
| metrics, analytics API, exports   |          |         |           | yes      | yes       |
| who is online; holidays           |          |         |           | yes      | yes       |
| users (agents and managers)       |          |         |           | yes (1)  | yes       |
| audit log                         |          |         |           |          | yes       |

(1) never a superuser, never superuser status or single permissions, never their own groups,
and only groups whose permissions they hold themselves.

A capability is granted by Django permissions (all of those listed), which migrations give to
the groups *Agentes* and *Gestores* (chat/migrations/0002, 0008 and 0012); "read-only" staff hold
only the permission to view chats. A customer is whoever holds a chat's key: it opens that
chat and nothing else (``chat.selectors.customer_session``, which every customer door uses).
Staff doors read a chat with ``chat.selectors.chat_for_staff(user, pk, capability)``, which
asks here first.

Code outside ``chat`` (accounts, which must not import it) asks through Django's permission
API: :class:`PolicyBackend` answers ``user.has_perm("policy.<capability>")``, and the object
rules about users (``"policy.manage_user"`` with the user, ``"policy.change_rights"`` with
the user, ``"policy.grant_group"`` with the group).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .exceptions import NotPermitted
from .models import ChatSession


@dataclass(frozen=True)
class Capability:
    name: str
    permissions: tuple[str, ...]  # every one is needed
    refusal: str | Promise  # what a refused person is told
    superusers_only: bool = False

    def __str__(self) -> str:
        return self.name


VIEW = "chat.view_chatsession"

VIEW_CHATS = Capability("view_chats", (VIEW,), _("Only agents can see chats."))
REPLY = Capability(
    "reply", (VIEW, "chat.reply_chatsession"), _("Only agents with the reply permission can answer chats.")
)
WRITE_NOTES = Capability(
    "write_notes", (VIEW, "chat.note_chatsession"), _("Only agents can write internal notes.")
)
CLAIM = Capability("claim", (VIEW, "chat.claim_chatsession"), _("Only agents can take chats."))
TRANSFER = Capability("transfer", (VIEW, "chat.transfer_chatsession"), _("Only agents can transfer chats."))
END = Capability("end", (VIEW, "chat.end_chatsession"), _("Only agents can end chats."))
USE_CANNED = Capability(
    "use_canned", ("chat.view_cannedresponse",), _("Only agents can use canned responses.")
)
MANAGE_CANNED = Capability(
    "manage_canned",
    ("chat.view_cannedresponse", "chat.add_cannedresponse", "chat.change_cannedresponse"),
    _("Only managers can change canned responses."),
)
VIEW_METRICS = Capability(
    "view_metrics", ("chat.view_metrics", "chat.view_chatanalytics"), _("Only managers can see the metrics.")
)
EXPORT = Capability(
    "export", ("chat.view_metrics", "chat.export_metrics"), _("Only managers can export the metrics.")
)
MANAGE_HOURS = Capability(
    "manage_hours",
    ("chat.view_holiday", "chat.add_holiday", "chat.change_holiday", "chat.delete_holiday"),
    _("Only managers can change the holidays."),
)
MANAGE_USERS = Capability(
    "manage_users",
    ("accounts.view_user", "accounts.add_user", "accounts.change_user"),
    _("Only managers can change users."),
)
VIEW_AUDIT = Capability("view_audit", (), _("Only superusers can read the audit log."), superusers_only=True)

CAPABILITIES = {
    capability.name: capability
    for capability in (
        VIEW_CHATS,
        REPLY,
        WRITE_NOTES,
        CLAIM,
        TRANSFER,
        END,
        USE_CANNED,
        MANAGE_CANNED,
        VIEW_METRICS,
        EXPORT,
        MANAGE_HOURS,
        MANAGE_USERS,
        VIEW_AUDIT,
    )
}


def is_staff_member(user) -> bool:
    """Signed in, active and staff: the least anyone needs for any capability."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def can(user, capability: Capability) -> bool:
    if not is_staff_member(user):
        return False
    if capability.superusers_only:
        return user.is_superuser
    return user.has_perms(capability.permissions)


def users_who_can(capability: Capability) -> QuerySet:
    """Active staff who have ``capability`` (through their own permissions, their groups'
    or superuser status): e.g. who may take a transferred chat."""
    User = get_user_model()
    users = User.objects.filter(is_active=True, is_staff=True)
    if capability.superusers_only:
        return users.filter(is_superuser=True)
    for permission in capability.permissions:
        app_label, codename = permission.split(".")
        holders = User.objects.filter(
            Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
            | Q(
                groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label
            )
        ).values("pk")
        users = users.filter(Q(is_superuser=True) | Q(pk__in=holders))
    return users


def require(user, capability: Capability) -> None:
    """NotPermitted (403) with the capability's refusal unless ``user`` has it."""
    if not can(user, capability):
        raise NotPermitted(capability.refusal)


# --- chats ------------------------------------------------------------------------------


def visible_chats(user, queryset: QuerySet[ChatSession] | None = None) -> QuerySet[ChatSession]:
    """The chats ``user`` may see, so a list never shows what a detail would refuse."""
    queryset = ChatSession.objects.all() if queryset is None else queryset
    return queryset if can(user, VIEW_CHATS) else queryset.none()


# --- users ------------------------------------------------------------------------------


def may_manage_user(actor, target) -> bool:
    """Create or edit ``target``: managers edit agents and managers, never a superuser."""
    if not can(actor, MANAGE_USERS):
        return False
    return actor.is_superuser or not target.is_superuser


def may_change_rights(actor, target) -> bool:
    """Change ``target``'s groups, permissions, staff and superuser status or active flag:
    never one's own (a manager must neither widen their own rights nor lock themselves out),
    never a superuser's."""
    if actor.is_superuser and is_staff_member(actor):
        return True
    return may_manage_user(actor, target) and target.pk != actor.pk


def may_grant_group(actor, group) -> bool:
    """Give ``group`` to someone: only a group whose permissions ``actor`` holds."""
    if not can(actor, MANAGE_USERS):
        return False
    if actor.is_superuser:
        return True
    wanted = {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }
    return wanted <= actor.get_all_permissions()


class PolicyBackend(BaseBackend):
    """Answers ``has_perm("policy.<capability>")`` and the object rules about users, for code
    that must not import this module (accounts). Authenticates nobody.

    Django answers every ``has_perm`` of an active superuser with yes before asking
    backends, which this table agrees with.
    """

    prefix = "policy."

    def has_perm(self, user_obj, perm, obj=None):
        if not isinstance(perm, str) or not perm.startswith(self.prefix):
            return False
        name = perm.removeprefix(self.prefix)
        if obj is None:
            capability = CAPABILITIES.get(name)
            return capability is not None and can(user_obj, capability)
        if name == "manage_user":
            return may_manage_user(user_obj, obj)
        if name == "change_rights":
            return may_change_rights(user_obj, obj)
        if name == "grant_group":
            return may_grant_group(user_obj, obj)
        return False
