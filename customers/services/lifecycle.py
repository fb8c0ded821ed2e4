"""The lifecycle stage (Mới, Tiềm năng, Đã mua hàng, VIP): the one place that changes it.

The stage follows what the orders app knows (has the customer a delivered order; does a
calendar month of the shop's VIP window pass its threshold), but the rule and the column
are the customers app's: the orders app tells these services the facts, it never writes
``Customer.lifecycle_stage`` itself.
"""

from collections.abc import Iterable

from django.db import transaction

from crm.audit import audit_record
from crm.models import AuditLog

from ..models import Customer, LifecycleStage

AUTOMATIC = (LifecycleStage.PURCHASED, LifecycleStage.VIP)


def lifecycle_stage_for(current: str, *, bought: bool, vip: bool | None) -> str:
    """The stage a customer should have. ``vip`` None: the VIP facts did not change (a
    payment or a change that moved no month's spend): a VIP stays VIP while they have
    bought. A manual stage (Mới, Tiềm năng) stays until a first delivered order; a
    customer whose only delivered orders were cancelled goes back to Mới."""
    if vip is None:
        vip = current == LifecycleStage.VIP
    if vip and bought:
        return LifecycleStage.VIP
    if bought:
        return LifecycleStage.PURCHASED
    if current in AUTOMATIC:
        return LifecycleStage.NEW
    return current


def customer_lifecycle_follow(*, tenant, customer: Customer, bought: bool,
                              vip: bool | None = None) -> str:
    """Bring one customer's stage in line with their orders (inside the order's
    transaction: no savepoint of its own, it is on every delivery's path); audited as the
    system's change. Returns the stage."""
    with transaction.atomic(savepoint=False):
        return _follow(tenant, customer, bought, vip)


def _follow(tenant, customer: Customer, bought: bool, vip: bool | None) -> str:
    current = Customer.objects.filter(pk=customer.pk, tenant=tenant).values_list(
        "lifecycle_stage", flat=True)[0]
    stage = lifecycle_stage_for(current, bought=bought, vip=vip)
    if stage != current:
        Customer.objects.filter(pk=customer.pk, tenant=tenant).update(lifecycle_stage=stage)
        audit_record(tenant, None, "customer.lifecycle", customer,
                     before={"lifecycle_stage": current}, after={"lifecycle_stage": stage})
    customer.lifecycle_stage = stage
    return stage


@transaction.atomic
def customers_set_lifecycle(*, tenant, ids: Iterable[int], stage: str) -> int:
    """The nightly repair: put these customers of the shop at ``stage`` (each change
    audited as the system's). Returns how many changed."""
    customers = Customer.objects.for_tenant(tenant).filter(pk__in=list(ids)).exclude(
        lifecycle_stage=stage)
    # The rows audit_record writes, in one statement: an order import moves thousands.
    entries = [AuditLog(tenant=tenant, actor=None, action="customer.lifecycle",
                        object_type=Customer._meta.label_lower, object_id=customer.pk,
                        object_repr=str(customer)[:200],
                        before={"lifecycle_stage": customer.lifecycle_stage},
                        after={"lifecycle_stage": stage})
               for customer in customers.only("pk", "code", "full_name", "lifecycle_stage",
                                              "tenant_id")]
    AuditLog.objects.bulk_create(entries, batch_size=2000)
    customers.update(lifecycle_stage=stage)
    return len(entries)
