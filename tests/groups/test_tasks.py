"""The groups' Celery tasks (thin, by id) and what queues them: the nightly beat entry, the
recompute of order figures (orders.signals.aggregates_recomputed) and bulk changes of
customers (customers.signals.customers_bulk_changed)."""

import pytest
from django.conf import settings
from django.utils import timezone

from crm.access import SYSTEM
from crm.models import Tenant
from customers import services as customer_services
from customers.signals import customers_bulk_changed
from groups import tasks
from groups.models import GroupKind, GroupRun, RecomputeState
from orders import services as order_services
from orders.models import CustomerStats
from tests.groups.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db

BIG_SPENDERS = {"conditions": [{"field": "spend", "op": "gte", "value": 1_000_000}]}


def spender(tenant, phone: str, amount: int):
    customer = customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Khách " + phone, "phone": phone})
    order_services.order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                                data={"total_amount": amount, "status": "delivered"})
    return customer


def test_the_nightly_entry_follows_the_order_figures():
    entry = settings.CELERY_BEAT_SCHEDULE["groups-nightly"]
    assert entry["task"] == tasks.groups_recompute_nightly.name
    assert list(settings.CELERY_BEAT_SCHEDULE).index("groups-nightly") > list(
        settings.CELERY_BEAT_SCHEDULE).index("aggregates-nightly")


def test_nightly_runs_once_per_active_shop(tenant, other_tenant):
    closed = Tenant.objects.create(name="Đã đóng", slug="da-dong", is_active=False)
    groups = {shop: CustomerGroupFactory(tenant=shop, rule=BIG_SPENDERS)
              for shop in (tenant, other_tenant, closed)}
    spender(tenant, "0912000001", 2_000_000)
    assert tasks.groups_recompute_nightly() == 2  # Celery runs eagerly in tests
    runs = GroupRun.objects.all()
    assert {r.group_id for r in runs} == {groups[tenant].pk, groups[other_tenant].pk}
    assert {r.trigger for r in runs} == {GroupRun.Trigger.NIGHTLY}
    assert groups[tenant].members.count() == 1


def test_the_task_loads_by_id_and_runs_as_the_system(tenant, other_tenant):
    group = CustomerGroupFactory(tenant=tenant, rule=BIG_SPENDERS)
    spender(tenant, "0912000001", 2_000_000)
    result = tasks.group_recompute(tenant.pk, group.pk, GroupRun.Trigger.EDIT)
    assert (result["state"], result["joined"], result["total"]) == ("done", 1, 1)
    assert tasks.group_recompute(other_tenant.pk, group.pk) is None  # not that shop's group


def test_a_group_archived_while_queued_is_left_alone(tenant):
    group = CustomerGroupFactory(tenant=tenant, rule=BIG_SPENDERS,
                                 recompute_state=RecomputeState.QUEUED,
                                 archived_at=timezone.now())
    assert tasks.group_recompute(tenant.pk, group.pk) is None
    group.refresh_from_db()
    assert group.recompute_state == RecomputeState.IDLE
    assert not GroupRun.objects.exists()


def test_a_recompute_of_order_figures_recomputes_the_groups(
        tenant, django_capture_on_commit_callbacks):
    group = CustomerGroupFactory(tenant=tenant, rule=BIG_SPENDERS)
    fixed = CustomerGroupFactory(tenant=tenant, kind=GroupKind.FIXED)
    customer = spender(tenant, "0912000001", 2_000_000)
    CustomerStats.objects.filter(customer=customer).update(total_spend=0)  # drifted
    with django_capture_on_commit_callbacks(execute=True):
        assert order_services.aggregates_recompute(tenant_id=tenant.pk) == 1
    run = GroupRun.objects.get()  # groups by conditions only: fixed lists read no figures
    assert (run.group_id, run.trigger, run.joined) == (group.pk, GroupRun.Trigger.STATS, 1)
    assert not fixed.runs.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert order_services.aggregates_recompute(tenant_id=tenant.pk) == 0
    assert GroupRun.objects.count() == 1  # nothing changed: nothing queued


def test_a_bulk_change_of_customers_recomputes_the_groups(
        tenant, other_tenant, django_capture_on_commit_callbacks):
    group = CustomerGroupFactory(tenant=tenant, rule=BIG_SPENDERS)
    CustomerGroupFactory(tenant=other_tenant, rule=BIG_SPENDERS)
    spender(tenant, "0912000001", 2_000_000)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        customers_bulk_changed.send(sender=None, tenant=tenant, reason="import")
    assert callbacks  # queued after the commit (with the customers app's index merge)
    run = GroupRun.objects.get()  # one run; the other shop's group is not touched
    assert (run.group_id, run.trigger, run.joined) == (group.pk, GroupRun.Trigger.IMPORT, 1)


def test_a_merge_moves_history_pins_and_memberships_to_the_survivor(tenant, manager):
    from groups.models import GroupEvent, GroupMember, GroupPin, PinMode
    from groups.services import group_recompute

    survivor = spender(tenant, "0912000001", 2_000_000)
    merged = spender(tenant, "0912000002", 3_000_000)
    both = CustomerGroupFactory(tenant=tenant, rule=BIG_SPENDERS)
    pinned = CustomerGroupFactory(tenant=tenant, kind=GroupKind.FIXED)
    GroupPin.objects.create(tenant=tenant, group=pinned, customer=merged, mode=PinMode.INCLUDE)
    for group in (both, pinned):
        group_recompute(tenant=tenant, actor=SYSTEM, group=group)
    customer_services.customers_merge(tenant=tenant, actor=manager, survivor=survivor,
                                      merged=merged)
    assert set(GroupMember.objects.values_list("group_id", "customer_id")) == {
        (both.pk, survivor.pk), (pinned.pk, survivor.pk)}
    assert GroupPin.objects.get().customer_id == survivor.pk
    assert GroupEvent.objects.filter(customer=survivor).count() == 3  # nothing lost
    both.refresh_from_db()
    assert both.member_count == 1
    assert group_recompute(tenant=tenant, actor=SYSTEM, group=both).left == 0
