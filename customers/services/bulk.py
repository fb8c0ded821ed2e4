"""Bulk actions on the customer list (assign, care status, tags, membership)."""

from dataclasses import dataclass

from django.db import transaction

from crm import access
from crm.audit import audit_record
from crm.models import Membership
from crm.tenancy import ensure_same_tenant

from ..models import (
    CareStatus,
    Customer,
    CustomerTag,
    MembershipState,
    Tag,
)
from ..selectors import scope_customers
from .records import _check_people, require_customer

# --- bulk actions on the list ------------------------------------------------------------

def _bulk_update(*, tenant, actor, customers, field: str, value, action: str, label) -> int:
    changed = 0
    user = access.user_of(actor)
    for customer in customers:
        old = getattr(customer, field)
        if old == value:
            continue
        setattr(customer, field, value)
        customer.updated_by = user
        customer.save(update_fields=[field, "updated_by", "updated_at"])
        audit_record(tenant, actor, action, customer,
                     before={field: label(old)}, after={field: label(value)})
        changed += 1
    return changed


def _locked(tenant, actor, customer_ids):
    """The customers of ``customer_ids`` the actor may see, locked; the others are left
    out (a bulk action never reaches a customer its author cannot see)."""
    visible = scope_customers(Customer.objects.for_tenant(tenant), actor)
    return list(visible.filter(pk__in=customer_ids)
                .select_for_update(of=("self",)).order_by("pk")
                .select_related("assigned_staff__user", "care_status"))


def _require_bulk(tenant, actor, action: str) -> None:
    access.require(actor, "customer.bulk_edit", tenant)
    access.require(actor, action, tenant)


@transaction.atomic
def customers_assign_staff(*, tenant, actor, customer_ids, staff: Membership | None) -> int:
    _require_bulk(tenant, actor, "customer.assign")
    _check_people(tenant, staff, None)
    return _bulk_update(tenant=tenant, actor=actor, customers=_locked(tenant, actor, customer_ids),
                        field="assigned_staff", value=staff, action="customer.assign_staff",
                        label=lambda m: m.display_name if m else None)


@transaction.atomic
def customers_set_care_status(*, tenant, actor, customer_ids, status: CareStatus | None) -> int:
    _require_bulk(tenant, actor, "customer.set_care_status")
    return _set_care_status(tenant, actor, _locked(tenant, actor, customer_ids), status)


def _set_care_status(tenant, actor, customers, status) -> int:
    ensure_same_tenant(tenant, care_status=status)
    return _bulk_update(tenant=tenant, actor=actor, customers=customers,
                        field="care_status", value=status, action="customer.care_status",
                        label=lambda s: s.name if s else None)


@transaction.atomic
def customers_add_tag(*, tenant, actor, customer_ids, tag: Tag) -> int:
    _require_bulk(tenant, actor, "customer.tag")
    ensure_same_tenant(tenant, tag=tag)
    customers = _locked(tenant, actor, customer_ids)
    held = set(CustomerTag.objects.for_tenant(tenant).filter(
        tag=tag, customer__in=customers).values_list("customer_id", flat=True))
    if tag.group_id and not tag.group.multiple:
        # Single-choice group: the new tag replaces the customer's other tag of the group.
        CustomerTag.objects.for_tenant(tenant).filter(
            customer__in=customers, tag__group=tag.group).exclude(tag=tag).delete()
    new = [c for c in customers if c.pk not in held]
    CustomerTag.objects.bulk_create(CustomerTag(tenant=tenant, customer=c, tag=tag) for c in new)
    for customer in new:
        audit_record(tenant, actor, "customer.tag_add", customer, after={"tag": tag.name})
    return len(new)


@transaction.atomic
def customers_remove_tag(*, tenant, actor, customer_ids, tag: Tag) -> int:
    _require_bulk(tenant, actor, "customer.tag")
    ensure_same_tenant(tenant, tag=tag)
    customers = _locked(tenant, actor, customer_ids)
    links = CustomerTag.objects.for_tenant(tenant).filter(tag=tag, customer__in=customers)
    holders = [c for c in customers if c.pk in set(links.values_list("customer_id", flat=True))]
    links.delete()
    for customer in holders:
        audit_record(tenant, actor, "customer.tag_remove", customer, before={"tag": tag.name})
    return len(holders)


@dataclass(frozen=True)
class Activation:
    """What "Kích hoạt thành viên" did to the selected customers the actor may see."""

    activated: int
    already_active: int
    cancelled: int  # left alone: bringing back a cancelled member is done on the profile

    @property
    def seen(self) -> int:
        return self.activated + self.already_active + self.cancelled


@transaction.atomic
def customers_activate_membership(*, tenant, actor, customer_ids) -> Activation:
    """Make the selected walk-in guests and pending members active members (the saved
    filter "Chưa đăng ký thành viên" offers it), one membership change each, as on the
    profile. Active and cancelled members are counted and left as they are."""
    from .membership import membership_transition  # membership imports this module

    _require_bulk(tenant, actor, "customer.approve_membership")
    activated = already_active = cancelled = 0
    for customer in _locked(tenant, actor, customer_ids):
        state = customer.membership_state
        if state == MembershipState.ACTIVE:
            already_active += 1
        elif state == MembershipState.CANCELLED:
            cancelled += 1
        else:
            membership_transition(tenant=tenant, actor=actor, customer=customer,
                                  to_state=MembershipState.ACTIVE)
            activated += 1
    return Activation(activated, already_active, cancelled)


# The profile's care status is the bulk action on one customer.

@transaction.atomic
def customer_set_care_status(*, tenant, actor, customer: Customer, status) -> bool:
    require_customer(actor, "customer.set_care_status", customer)
    return _set_care_status(tenant, actor, _locked(tenant, actor, [customer.pk]), status) == 1
