"""The one way services write the change log (STYLE.md: audit explicitly, never from a signal)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

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


# --- what an action is, in words -------------------------------------------------------------
# Every action name written to the log has a text, so that no page shows "customer.lifecycle"
# to a person: the history and timeline pages write "<who> <text>" ("Hệ thống chuyển giai
# đoạn: Mới → Đã mua hàng"). crm registers its own actions below; each app registers its
# own in AppConfig.ready(). tests/crm/test_audit_sentences.py finds every action name the
# code writes and fails when one has no text.

@dataclass(frozen=True)
class ActionText:
    text: str  # what the actor did, after their name: "changed the care status"
    icon: str = "ti-point"  # tabler icon of the timeline


action_texts: dict[str, ActionText] = {}


def register_action_texts(texts: dict[str, ActionText]) -> None:
    action_texts.update(texts)


def action_text(action: str) -> ActionText:
    """The words for ``action``; an action nobody registered (an old row) reads as a
    change, never as its internal name."""
    return action_texts.get(action) or ActionText(gettext_lazy("made a change"))


register_action_texts({
    "tenant.create": ActionText(gettext_lazy("created the shop"), "ti-building-store"),
    "tenant.settings": ActionText(gettext_lazy("changed the shop settings"), "ti-settings"),
    "membership.create": ActionText(gettext_lazy("added a person to the shop"), "ti-user-plus"),
    "staff.add": ActionText(gettext_lazy("added a person to the shop"), "ti-user-plus"),
    "staff.update": ActionText(gettext_lazy("changed a person's role or phone"), "ti-user-cog"),
    "staff.deactivate": ActionText(gettext_lazy("deactivated a person"), "ti-user-off"),
    "staff.reactivate": ActionText(gettext_lazy("reactivated a person"), "ti-user-check"),
    "staff.password_link": ActionText(gettext_lazy("emailed a set-password link"), "ti-mail"),
    "staff.password_temporary": ActionText(gettext_lazy("created a temporary password"),
                                           "ti-key"),
    "staff.unlock": ActionText(gettext_lazy("unlocked a sign-in"), "ti-lock-open"),
    "account.name": ActionText(gettext_lazy("changed their name"), "ti-user-edit"),
    "account.password": ActionText(gettext_lazy("changed their password"), "ti-key"),
    "apikey.create": ActionText(gettext_lazy("created an API key"), "ti-key"),
    "apikey.revoke": ActionText(gettext_lazy("revoked an API key"), "ti-key-off"),
})
