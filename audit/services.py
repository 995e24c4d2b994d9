"""Writing the audit trail: one call per access to personal data in bulk.

The chat and accounts services (and the command that anonymises) call :func:`record`; it
stores who did what to which object, when and from which address, in the caller's
transaction, so a change that rolls back leaves no entry claiming it happened.
"""

from .models import AuditEntry

Action = AuditEntry.Action


def record(*, actor, action: str, target: str = "", detail: str = "", ip: str | None = None) -> AuditEntry:
    """Store one entry. ``actor`` is a user or None (a scheduled job); ``target`` names the
    object (``user #12 ana``, ``2026-05-01..2026-05-31``), never a customer's personal data."""
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    name = getattr(actor, "username", "") if actor is not None else ""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=name,
        action=action,
        target=target[:200],
        detail=detail[:500],
        ip=ip or None,
    )
