"""Audit rows of a customer, told in words for the activity timeline and the history tab.

"Nguyễn Lan đổi trạng thái chăm sóc: Tiềm năng → Chốt đơn" is built here from the row's
action and before/after values; templates only lay the sentences out.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Customer, Gender, LifecycleStage, MembershipState

CHOICE_LABELS = {
    "gender": dict(Gender.choices),
    "lifecycle_stage": dict(LifecycleStage.choices),
    "membership_state": dict(MembershipState.choices),
}
EXTRA_LABELS = {
    "phones": gettext_lazy("Phones"),
    "emails": gettext_lazy("Emails"),
    "tags": gettext_lazy("Tags"),
    "tag": gettext_lazy("Tag"),
}


def field_label(name: str) -> str:
    if name in EXTRA_LABELS:
        return str(EXTRA_LABELS[name])
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - an old row may name a field that no longer exists
        return name


def value_text(name: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if name in CHOICE_LABELS:
        return str(CHOICE_LABELS[name].get(value, value))
    if name == "province_code":
        from .models import PROVINCE_NAMES

        return PROVINCE_NAMES.get(value, str(value))
    if name == "ward_code":
        from .models import ward_name

        return ward_name(value) or str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass
class Activity:
    at: object
    actor: str
    text: str
    icon: str
    changes: list[Change] = field(default_factory=list)
    is_note: bool = False


def changes_of(row) -> list[Change]:
    keys = list(dict.fromkeys([*row.after.keys(), *row.before.keys()]))
    return [Change(k, field_label(k), value_text(k, row.before.get(k)),
                   value_text(k, row.after.get(k)))
            for k in keys if k not in ("values", "survivor", "merged")]


ACTION_TEXT = {
    "customer.create": (gettext_lazy("created the customer"), "ti-user-plus"),
    "customer.update": (gettext_lazy("edited the profile"), "ti-pencil"),
    "customer.care_status": (gettext_lazy("changed the care status"), "ti-progress-check"),
    "customer.assign": (gettext_lazy("changed who takes care"), "ti-user-check"),
    "customer.assign_staff": (gettext_lazy("assigned the staff in charge"), "ti-user-check"),
    "customer.tag_add": (gettext_lazy("added a tag"), "ti-tag"),
    "customer.tag_remove": (gettext_lazy("removed a tag"), "ti-tag-off"),
    "customer.membership": (gettext_lazy("changed the membership"), "ti-id-badge"),
    "customer.registration": (gettext_lazy("registered on the shop's page"), "ti-forms"),
    "customer.merge": (gettext_lazy("merged a duplicate into this customer"), "ti-git-merge"),
}


def describe(row) -> Activity:
    actor = _actor_name(row.actor)
    text, icon = ACTION_TEXT.get(row.action, (row.action, "ti-point"))
    changes = changes_of(row)
    if row.action == "customer.merge":
        changes = [Change("code", _("Merged code"), row.before.get("merged_code", ""),
                          row.after.get("survivor_code", ""))]
    sentence = f"{actor} {text}"
    if len(changes) == 1 and row.action not in ("customer.create",):
        c = changes[0]
        sentence += f": {c.before} → {c.after}" if row.action != "customer.tag_add" else \
            f": {c.after}"
        if row.action == "customer.tag_remove":
            sentence = f"{actor} {text}: {c.before}"
    return Activity(at=row.created_at, actor=actor, text=sentence, icon=icon, changes=changes)


def _actor_name(user) -> str:
    if user is None:
        return _("The system")
    return " ".join(p for p in (user.last_name, user.first_name) if p) or user.get_username()
