"""Audit rows of a customer, told in words for the activity timeline and the history tab.

"Nguyễn Lan đổi trạng thái chăm sóc: Tiềm năng → Chốt đơn" is built here from the row's
action and before/after values; templates only lay the sentences out.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import access, audit, registry
from crm.audit import ActionText

from .countries import country_name
from .models import Customer, Gender, LifecycleStage, MembershipState
from .normalize import format_phone

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
    if name == "country":
        return country_name(value)
    if name == "phone" and isinstance(value, str) and value.startswith("+"):
        return format_phone(value) or value
    if name == "avatar":
        return _("a picture")
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
    url: str = ""  # an event of another app (an order) links to its page
    amount: int | None = None
    tone: str = ""


def changes_of(row) -> list[Change]:
    keys = list(dict.fromkeys([*row.after.keys(), *row.before.keys()]))
    return [Change(k, field_label(k), value_text(k, row.before.get(k)),
                   value_text(k, row.after.get(k)))
            for k in keys if k not in ("values", "survivor", "merged")]


ACTION_TEXTS = {
    "customer.create": ActionText(gettext_lazy("created the customer"), "ti-user-plus"),
    "customer.update": ActionText(gettext_lazy("edited the profile"), "ti-pencil"),
    "customer.care_status": ActionText(gettext_lazy("changed the care status"),
                                       "ti-progress-check"),
    "customer.assign": ActionText(gettext_lazy("changed who takes care"), "ti-user-check"),
    "customer.assign_staff": ActionText(gettext_lazy("assigned the staff in charge"),
                                        "ti-user-check"),
    "customer.tag_add": ActionText(gettext_lazy("added a tag"), "ti-tag"),
    "customer.tag_remove": ActionText(gettext_lazy("removed a tag"), "ti-tag-off"),
    "customer.membership": ActionText(gettext_lazy("changed the membership"), "ti-id-badge"),
    "customer.registration": ActionText(gettext_lazy("registered on the shop's page"),
                                        "ti-forms"),
    "customer.merge": ActionText(gettext_lazy("merged a duplicate into this customer"),
                                 "ti-git-merge"),
    # Written by the orders app's rules (first delivered order, VIP), about the customer.
    "customer.lifecycle": ActionText(gettext_lazy("moved the lifecycle stage"), "ti-stairs-up"),
    # The shop's lists (Settings): lookup_save / lookup_move name them after the model.
    "source.create": ActionText(gettext_lazy("added a customer source"), "ti-route"),
    "source.update": ActionText(gettext_lazy("edited a customer source"), "ti-route"),
    "source.move": ActionText(gettext_lazy("reordered the customer sources"), "ti-route"),
    "taggroup.create": ActionText(gettext_lazy("added a tag group"), "ti-folders"),
    "taggroup.update": ActionText(gettext_lazy("edited a tag group"), "ti-folders"),
    "taggroup.move": ActionText(gettext_lazy("reordered the tag groups"), "ti-folders"),
    "tag.create": ActionText(gettext_lazy("created a tag"), "ti-tags"),
    "tag.update": ActionText(gettext_lazy("edited a tag"), "ti-tags"),
    "tag.move": ActionText(gettext_lazy("reordered the tags"), "ti-tags"),
    "carestatus.create": ActionText(gettext_lazy("added a care status"), "ti-progress-check"),
    "carestatus.update": ActionText(gettext_lazy("edited a care status"), "ti-progress-check"),
    "carestatus.move": ActionText(gettext_lazy("reordered the care statuses"),
                                  "ti-progress-check"),
}


def register() -> None:
    """Called from CustomersConfig.ready(): the words of the customers app's actions."""
    audit.register_action_texts(ACTION_TEXTS)


def describe(row) -> Activity:
    actor = _actor_name(row.actor)
    words = audit.action_text(row.action)
    text, icon = words.text, words.icon
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


def actor_name(user) -> str:
    """A person's name as the shop writes it (family name first); the system without one."""
    if user is None:
        return _("The system")
    return " ".join(p for p in (user.last_name, user.first_name) if p) or user.get_username()


_actor_name = actor_name  # the name customers.selectors imports


def customer_timeline(customer, actor, limit: int = 100) -> list[Activity]:
    """Notes, the customer's change log and the events other apps register (orders,
    payments, returns: crm.registry.register_timeline_source), newest first; a source is
    asked only when the access table lets ``actor`` see it."""
    from .selectors import customer_activity

    items = customer_activity(customer, limit)
    for source in registry.timeline_sources:
        if not access.can(actor, source.action):
            continue
        items += [Activity(at=e.when, actor=e.actor, text=e.sentence, icon=e.icon, url=e.url,
                           amount=e.amount, tone=e.tone)
                  for e in source.provider(customer, actor, limit)]
    return sorted(items, key=lambda a: a.at, reverse=True)[:limit]
