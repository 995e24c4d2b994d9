"""Users: creating and changing agents and managers, the same way on every path (admin, API).

Who may do what to whom is the access policy's (chat/policy.py); this app must not import
it, so it asks through Django's permission API, which the policy answers:

- ``has_perm("policy.manage_users")``: may create and change users at all (managers);
- ``has_perm("policy.manage_user", target)``: may change this one (never a superuser);
- ``has_perm("policy.change_rights", target)``: may change their groups, staff status or
  active flag (never their own: a manager neither widens their own rights nor locks
  themselves out);
- ``has_perm("policy.grant_group", group)``: may give this group (only one whose
  permissions they hold); superuser status and single permissions: superusers only.

Every password set here passes Django's password validators. Each change is written to the
audit log, and a change that narrows someone's access (deactivated, groups or staff status
changed) is announced with :data:`user_access_changed` after commit, so their open sockets
are closed within seconds (chat listens); deactivating also ends their admin sessions.
"""

from django.contrib.auth import SESSION_KEY, get_user_model, password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Action, record

# Sent (after commit) with ``user_id`` when a user's access may have narrowed.
user_access_changed = Signal()

RIGHTS = {"is_staff", "is_active"}  # and groups: nobody narrows or widens their own access
SUPERUSER_ONLY = {"is_superuser"}  # and single permissions


def _require(actor, perm: str, obj=None, message: str = "") -> None:
    if not (actor is not None and actor.is_authenticated and actor.has_perm(perm, obj)):
        raise PermissionDenied(message or _("Only managers can change users."))


def changed_fields(stored, user) -> set[str]:
    """The fields of ``user`` that differ from ``stored`` (its row as saved); for a new user
    (``stored`` None), those that differ from a fresh user's defaults."""
    model = type(user)
    stored = stored if stored is not None else model()
    return {
        field.attname
        for field in model._meta.concrete_fields
        if not field.primary_key and getattr(stored, field.attname) != getattr(user, field.attname)
    }


def check_change(*, actor, stored, fields: set[str], groups=None, permissions=None) -> None:
    """PermissionDenied unless ``actor`` may set ``fields`` (and give ``groups``, set
    single ``permissions``) on the user stored as ``stored`` (None: a new user). Changes
    nothing."""
    _require(actor, "policy.manage_users")
    if stored is not None:
        _require(actor, "policy.manage_user", stored, _("Only a superuser can change a superuser."))
    if (fields & SUPERUSER_ONLY or permissions is not None) and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can grant superuser status or single permissions."))
    current = set(stored.groups.all()) if stored is not None else set()
    regrouped = groups is not None and set(groups) != current
    if stored is not None and (fields & RIGHTS or regrouped):
        _require(actor, "policy.change_rights", stored, _("You cannot change your own access."))
    for group in set(groups or ()) - current:
        _require(
            actor, "policy.grant_group", group, _("You cannot give the group %(group)s.") % {"group": group}
        )


def password_min_length() -> int | None:
    """The shortest password the validators (AUTH_PASSWORD_VALIDATORS) take, if they say."""
    lengths = [
        validator.min_length
        for validator in password_validation.get_default_password_validators()
        if isinstance(validator, password_validation.MinimumLengthValidator)
    ]
    return max(lengths, default=None)


def validate_password(password: str, user) -> None:
    """Django's validators (AUTH_PASSWORD_VALIDATORS), their messages in the request's language."""
    password_validation.validate_password(password, user)


@transaction.atomic
def user_save(*, actor, user, password: str | None = None, groups=None, permissions=None, ip=None):
    """Create ``user`` (no pk yet) or save what the caller changed on it. ``password``, when
    given, passes Django's validators (ValidationError) and is set. ``groups`` and
    ``permissions`` (single permissions: superusers only), when given, replace the user's.
    What changed is worked out against the stored row, not taken from the caller."""
    model = get_user_model()
    created = user.pk is None
    stored = None if created else model.objects.get(pk=user.pk)
    fields = changed_fields(stored, user)
    if password is not None:
        fields.add("password")
    check_change(actor=actor, stored=stored, fields=fields, groups=groups, permissions=permissions)
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
    if created and not user.password:
        user.set_unusable_password()
    if created or fields:
        user.save()
    narrowed = False
    if groups is not None:
        before = set(stored.groups.all()) if stored is not None else set()
        if before != set(groups):
            user.groups.set(groups)
            fields.add("groups")
            narrowed = bool(before - set(groups))
    if permissions is not None:
        before = set(stored.user_permissions.all()) if stored is not None else set()
        if before != set(permissions):
            user.user_permissions.set(permissions)
            fields.add("user_permissions")
            narrowed = narrowed or bool(before - set(permissions))
    if stored is not None:
        narrowed = narrowed or any(
            getattr(stored, flag) and not getattr(user, flag)
            for flag in ("is_active", "is_staff", "is_superuser")
        )
    target = f"#{user.pk} {user.get_username()}"
    detail = ", ".join(sorted(fields - {"password"}))
    if created:
        record(actor=actor, action=Action.USER_CREATED, target=target, detail=detail, ip=ip)
    elif stored.is_active and not user.is_active:
        record(actor=actor, action=Action.USER_DEACTIVATED, target=target, ip=ip)
        _end_sessions(user)
    elif fields:
        record(actor=actor, action=Action.USER_CHANGED, target=target, detail=detail, ip=ip)
    if not created and "password" in fields:
        record(actor=actor, action=Action.PASSWORD_SET, target=target, ip=ip)
    if narrowed:
        user_id = user.pk
        transaction.on_commit(lambda: user_access_changed.send(sender=model, user_id=user_id))
    return user


@transaction.atomic
def user_set_password(*, actor, user, password: str | None, ip=None):
    """Set ``user``'s password after Django's validators (ValidationError), or with None turn
    password sign-in off for them."""
    _require(actor, "policy.manage_users")
    _require(actor, "policy.manage_user", user, _("Only a superuser can change a superuser."))
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    user.save(update_fields=["password"])
    record(actor=actor, action=Action.PASSWORD_SET, target=f"#{user.pk} {user.get_username()}", ip=ip)
    return user


def _end_sessions(user) -> None:
    """Delete the admin sessions of ``user`` (the stored ones: Django's database sessions)."""
    user_key = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == user_key
    ]
    Session.objects.filter(pk__in=ended).delete()


__all__ = [
    "ValidationError",
    "check_change",
    "password_min_length",
    "user_access_changed",
    "user_save",
    "user_set_password",
    "validate_password",
]
