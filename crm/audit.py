"""The one way services write the change log (STYLE.md: audit explicitly, never from a signal)."""

from .models import AuditLog


def audit_record(tenant, actor, action: str, obj=None, before=None, after=None) -> AuditLog:
    """Record that ``actor`` did ``action`` to ``obj`` in ``tenant``.

    ``before``/``after`` hold only the fields that changed, as plain values (codes, names,
    ids); they feed the profile's history tab and must stay readable after the related row
    is renamed or deleted.
    """
    # The actor is a membership (a person), a system actor (no author) or, in old call
    # sites and the platform admin, a user.
    actor = getattr(actor, "user", actor)
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        raise ValueError("audit_record: object belongs to another shop")
    return AuditLog.objects.create(
        tenant=tenant,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before or {},
        after=after or {},
    )


def diff_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep only the keys whose value changed, for a compact audit row."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
