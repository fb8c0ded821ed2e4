"""Customer groups as records: create, edit, archive and restore (never delete), the
customers put in by hand (a fixed list's members, a rule group's always-include and
always-exclude lists), and actions over several groups at once.

A fixed list changes at once: the customer joins or leaves in the same transaction, with
its GroupEvent. A group by conditions only records what it should be (its rule, its pins,
a new ``version``) and asks ``groups.services.recompute`` for a recompute: the set-based
diff there is the one place that moves the members of a rule group.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.audit import audit_record, diff_fields
from crm.money import format_money
from crm.tenancy import ensure_same_tenant
from customers.selectors import scope_customers

from ..models import CustomerGroup, GroupKind, GroupMember, GroupPin, PinMode

MAX_PINS_AT_ONCE = 500
# The tag action goes through the customers' bulk service, one audit row per customer:
# beyond this many members it belongs to a background job (with the export and care
# actions of later issues), not to a request.
MAX_TAG_MEMBERS = 10_000
GROUP_FIELDS = ("name", "description", "kind", "rule")


def _require(tenant, actor, group=None) -> None:
    access.require(actor, "group.manage", tenant)
    ensure_same_tenant(tenant, group=group)


def _clean_name(tenant, name: str, exclude_pk=None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Type the group's name.")})
    # Compared in Python: SQLite's iexact folds ASCII letters only ("Khách" vs "KHÁCH"), and
    # a shop has tens of groups, not thousands.
    others = (CustomerGroup.objects.for_tenant(tenant).exclude(pk=exclude_pk)
              .values_list("name", flat=True))
    if any(other.casefold() == name.casefold() for other in others):
        raise ValidationError({"name": _("The shop already has a group named “%(name)s” "
                                         "(archived groups count too).") % {"name": name}})
    return name


def _clean_rule(tenant, kind: str, rule, group_pk=None) -> dict:
    """The normalized rule of a group by conditions (customers.rules.rule_validate); a
    fixed list has none. A rule may read other groups ("Thuộc nhóm"), not its own group:
    its members would decide who its members are."""
    if kind == GroupKind.FIXED:
        return {}
    from customers.rules import rule_validate

    try:
        clean = rule_validate(tenant, rule or {"conditions": []})
    except ValidationError as error:
        raise ValidationError({"rule": error.messages}) from None
    flat = [c for item in clean["conditions"] for c in item.get("any", [item])]
    if group_pk is not None and any(c["field"] == "group" and group_pk in (c["value"] or [])
                                    for c in flat):
        raise ValidationError({"rule": _("A group's conditions cannot refer to the group "
                                         "itself.")})
    return clean


def _request_recompute(*, tenant, actor, group, trigger: str) -> None:
    # Imported here: the recompute service is its own module (the Celery side of groups).
    from .recompute import group_recompute_request

    group_recompute_request(tenant=tenant, actor=actor, group=group, trigger=trigger)


def _save(group: CustomerGroup, **kwargs) -> None:
    """Save; the database's case-insensitive unique name is the last word on a race."""
    try:
        with transaction.atomic():
            group.save(**kwargs)
    except IntegrityError:
        raise ValidationError({"name": _("The shop already has a group named “%(name)s” "
                                         "(archived groups count too).")
                               % {"name": group.name}}) from None


@transaction.atomic
def group_create(*, tenant, actor, data: dict) -> CustomerGroup:
    """A new group (``data``: name, description, kind, rule). A group by conditions is
    filled by a first recompute, queued here."""
    _require(tenant, actor)
    kind = data.get("kind") or GroupKind.RULE
    group = CustomerGroup(
        tenant=tenant, name=_clean_name(tenant, data.get("name", "")),
        description=(data.get("description") or "").strip(), kind=kind,
        rule=_clean_rule(tenant, kind, data.get("rule")), created_by=access.user_of(actor))
    group.full_clean(exclude=["tenant"], validate_constraints=False)
    _save(group)
    audit_record(tenant, actor, "group.create", group,
                 after={"name": group.name, "kind": group.kind})
    if group.has_rule:
        _request_recompute(tenant=tenant, actor=actor, group=group, trigger="edit")
    return group


@transaction.atomic
def group_update(*, tenant, actor, group: CustomerGroup, data: dict) -> CustomerGroup:
    """Rename, describe, change the conditions. The kind stays what the group was created
    as (a fixed list's members are people someone chose; a rule would silently drop them).
    A changed rule bumps ``version`` and queues a recompute."""
    _require(tenant, actor, group)
    group = _locked(tenant, group)
    before = {f: getattr(group, f) for f in GROUP_FIELDS}
    if "name" in data:
        group.name = _clean_name(tenant, data["name"], exclude_pk=group.pk)
    if "description" in data:
        group.description = (data["description"] or "").strip()
    if "rule" in data and group.has_rule:
        group.rule = _clean_rule(tenant, group.kind, data["rule"], group_pk=group.pk)
    old, new = diff_fields(before, {f: getattr(group, f) for f in GROUP_FIELDS})
    if not new:
        return group
    rule_changed = "rule" in new
    if rule_changed:
        group.version += 1
    group.full_clean(exclude=["tenant"], validate_constraints=False)
    _save(group, update_fields=["name", "description", "rule", "version", "updated_at"])
    audit_record(tenant, actor, "group.update", group, before=old, after=new)
    if rule_changed:
        _request_recompute(tenant=tenant, actor=actor, group=group, trigger="edit")
    return group


def _locked(tenant, group: CustomerGroup) -> CustomerGroup:
    return CustomerGroup.objects.for_tenant(tenant).select_for_update().get(pk=group.pk)


@transaction.atomic
def group_archive(*, tenant, actor, group: CustomerGroup) -> CustomerGroup:
    """Out of the list and of the nightly recompute; members, pins and history are kept."""
    _require(tenant, actor, group)
    group = _locked(tenant, group)
    if group.archived_at is None:
        group.archived_at = timezone.now()
        group.save(update_fields=["archived_at", "updated_at"])
        audit_record(tenant, actor, "group.archive", group, after={"archived": True})
    return group


@transaction.atomic
def group_restore(*, tenant, actor, group: CustomerGroup) -> CustomerGroup:
    """Back in use; a group by conditions is recomputed (the customers changed meanwhile)."""
    _require(tenant, actor, group)
    group = _locked(tenant, group)
    if group.archived_at is not None:
        group.archived_at = None
        group.save(update_fields=["archived_at", "updated_at"])
        audit_record(tenant, actor, "group.restore", group, after={"archived": False})
        if group.has_rule:
            _request_recompute(tenant=tenant, actor=actor, group=group, trigger="edit")
    return group


def _customers(tenant, actor, customer_ids) -> list:
    """The customers of ``customer_ids``, each of this shop and visible to the actor; any
    other id is refused (never silently left out: the person typed it)."""
    ids = {int(i) for i in customer_ids}
    if not ids:
        raise ValidationError(_("Choose at least one customer."))
    if len(ids) > MAX_PINS_AT_ONCE:
        raise ValidationError(_("Add or remove at most %(n)d customers at a time.")
                              % {"n": MAX_PINS_AT_ONCE})
    from customers.models import Customer

    found = list(scope_customers(Customer.objects.for_tenant(tenant), actor)
                 .filter(pk__in=ids).order_by("pk"))
    if len(found) != len(ids):
        raise ValidationError(_("This customer is not one of this shop's customers."))
    ensure_same_tenant(tenant, customers=found)
    return found


def _fixed_apply(tenant, group) -> None:
    """A fixed list changes at once: its members become its pins (the recompute's own
    set-based diff, with the join/leave events), and it follows its new version."""
    from .recompute import apply_diff

    CustomerGroup.objects.filter(pk=group.pk).update(version=F("version") + 1)
    group.refresh_from_db(fields=["version"])
    apply_diff(tenant, group)
    CustomerGroup.objects.filter(pk=group.pk).update(recomputed_version=group.version,
                                                     recomputed_at=timezone.now())
    group.refresh_from_db(fields=["recomputed_version", "recomputed_at"])


def _rule_changed(tenant, actor, group) -> None:
    CustomerGroup.objects.filter(pk=group.pk).update(version=F("version") + 1)
    group.refresh_from_db(fields=["version"])
    _request_recompute(tenant=tenant, actor=actor, group=group, trigger="edit")


@transaction.atomic
def group_pins_add(*, tenant, actor, group: CustomerGroup, customer_ids,
                   mode: str = PinMode.INCLUDE) -> int:
    """Put customers in by hand. A fixed list: they join now. A group by conditions: they go
    on its always-include (or always-exclude) list, taken off the other one, and the group
    is recomputed. Returns how many customers the change concerned."""
    _require(tenant, actor, group)
    if mode not in PinMode.values:
        raise ValidationError(_("Choose “always include” or “always exclude”."))
    group = _locked(tenant, group)
    if group.is_archived:
        raise ValidationError(_("This group is archived: restore it first."))
    if not group.has_rule and mode != PinMode.INCLUDE:
        raise ValidationError(_("A fixed list has no exclude list: remove the customer "
                                "instead."))
    customers = _customers(tenant, actor, customer_ids)
    pins = GroupPin.objects.for_tenant(tenant).filter(group=group, customer__in=customers)
    already = {p.customer_id: p for p in pins}
    user = access.user_of(actor)
    changed = [c for c in customers if c.pk not in already or already[c.pk].mode != mode]
    pins.filter(customer__in=changed).delete()
    GroupPin.objects.bulk_create(GroupPin(tenant=tenant, group=group, customer=c, mode=mode,
                                          added_by=user) for c in changed)
    if not changed:
        return 0
    audit_record(tenant, actor, "group.pins_add", group,
                 after={"mode": mode, "customers": [c.code for c in changed]})
    if group.has_rule:
        _rule_changed(tenant, actor, group)
    else:
        _fixed_apply(tenant, group)
    return len(changed)


@transaction.atomic
def group_pins_remove(*, tenant, actor, group: CustomerGroup, customer_ids) -> int:
    """Take customers off the lists made by hand. A fixed list: they leave now. A group by
    conditions: their conditions alone decide again (recomputed)."""
    _require(tenant, actor, group)
    group = _locked(tenant, group)
    if group.is_archived:
        raise ValidationError(_("This group is archived: restore it first."))
    customers = _customers(tenant, actor, customer_ids)
    pins = GroupPin.objects.for_tenant(tenant).filter(group=group, customer__in=customers)
    removed = set(pins.values_list("customer_id", flat=True))
    pins.delete()
    if not removed:
        return 0
    audit_record(tenant, actor, "group.pins_remove", group,
                 before={"customers": [c.code for c in customers if c.pk in removed]})
    if group.has_rule:
        _rule_changed(tenant, actor, group)
    else:
        _fixed_apply(tenant, group)
    return len(removed)


@transaction.atomic
def groups_add_tag(*, tenant, actor, groups, tag) -> int:
    """Give ``tag`` to every member of ``groups`` (the list's bulk action): the customers'
    own bulk service does it, with its access rules (tags need customer.tag) and its
    audit rows, on the members the actor may see. Returns how many customers got it."""
    access.require(actor, "group.manage", tenant)
    groups = list(groups)
    if not groups:
        raise ValidationError(_("Select at least one group."))
    ensure_same_tenant(tenant, groups=groups, tag=tag)
    from customers.services import customers_add_tag

    ids = list(GroupMember.objects.for_tenant(tenant).filter(group__in=groups)
               .values_list("customer_id", flat=True).distinct()[:MAX_TAG_MEMBERS + 1])
    if len(ids) > MAX_TAG_MEMBERS:
        raise ValidationError(_("These groups have more than %(n)s members: tag them in "
                                "smaller groups.") % {"n": format_money(MAX_TAG_MEMBERS)})
    changed = customers_add_tag(tenant=tenant, actor=actor, customer_ids=ids, tag=tag) \
        if ids else 0
    for group in groups:
        audit_record(tenant, actor, "group.add_tag", group, after={"tag": tag.name})
    return changed
