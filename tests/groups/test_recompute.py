"""Membership of groups recomputed as a set-based diff (groups.services.recompute): the
seed's example end to end, joins and leaves recorded, a second run writes nothing, runs of
one group serialized, pins, refusals, the run's figures, the background request."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from crm.access import SYSTEM, AccessDenied
from customers import services as customer_services
from customers.models import Customer
from groups import services
from groups.models import (
    CustomerGroup,
    GroupEvent,
    GroupKind,
    GroupMember,
    GroupPin,
    GroupRun,
    PinMode,
    RecomputeState,
)
from orders import services as order_services
from orders.models import CustomerStats, Order, OrderStatus
from tests.groups.factories import CustomerGroupFactory, GroupPinFactory

pytestmark = pytest.mark.django_db

# The seed's "Khách mới": order count >= 5 AND total spend >= 1.500.000 đ.
KHACH_MOI = {"conditions": [{"field": "orders", "op": "gte", "value": 5},
                            {"field": "spend", "op": "gte", "value": 1_500_000}]}


def buyer(tenant, name: str, orders: int, amount: int, phone: str) -> Customer:
    """A customer with ``orders`` delivered orders of ``amount`` each, through the order
    service, so that CustomerStats follow as in production."""
    customer = customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": name, "phone": phone})
    for _i in range(orders):
        deliver(tenant, customer, amount)
    return customer


def deliver(tenant, customer, amount: int) -> Order:
    return order_services.order_create(
        tenant=tenant, actor=SYSTEM, customer=customer,
        data={"total_amount": amount, "status": OrderStatus.DELIVERED})


def members(group) -> set[str]:
    return set(GroupMember.objects.filter(group=group)
               .values_list("customer__full_name", flat=True))


def events(group) -> list[tuple[str, bool]]:
    return sorted(GroupEvent.objects.filter(group=group)
                  .values_list("customer__full_name", "joined"))


def rows() -> tuple[int, int]:
    return GroupMember.objects.count(), GroupEvent.objects.count()


@pytest.fixture
def shop(tenant, other_tenant):
    """Five customers around the thresholds, and another shop's big buyer."""
    people = {
        "An": buyer(tenant, "An", 5, 300_000, "0912000001"),  # both exactly at the threshold
        "Bình": buyer(tenant, "Bình", 6, 200_000, "0912000002"),  # 1.200.000 đ: too little
        "Cường": buyer(tenant, "Cường", 4, 500_000, "0912000003"),  # 4 orders: too few
        "Dũng": buyer(tenant, "Dũng", 0, 0, "0912000004"),  # never bought
        "Giang": buyer(tenant, "Giang", 10, 1_000_000, "0912000005"),
    }
    buyer(other_tenant, "Hà (shop B)", 8, 1_000_000, "0912000006")
    return people


@pytest.fixture
def khach_moi(tenant):
    return CustomerGroupFactory(tenant=tenant, name="Khách mới", rule=KHACH_MOI)


def test_khach_moi_holds_exactly_the_right_customers(tenant, shop, khach_moi, manager):
    run = services.group_recompute(tenant=tenant, actor=manager, group=khach_moi)
    assert members(khach_moi) == {"An", "Giang"}
    assert events(khach_moi) == [("An", True), ("Giang", True)]
    assert (run.state, run.joined, run.left, run.total) == (GroupRun.State.DONE, 2, 0, 2)
    assert set(GroupEvent.objects.filter(group=khach_moi).values_list("run", flat=True)) == {
        run.pk}
    assert all(m.tenant_id == tenant.pk for m in GroupMember.objects.filter(group=khach_moi))


def test_an_order_crossing_the_threshold_joins_at_the_next_recompute(tenant, shop, khach_moi):
    services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    deliver(tenant, shop["Cường"], 500_000)  # the 5th delivered order: 2.500.000 đ
    assert members(khach_moi) == {"An", "Giang"}  # materialized: not before the recompute
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert members(khach_moi) == {"An", "Cường", "Giang"}
    assert (run.joined, run.left, run.total) == (1, 0, 3)
    event = GroupEvent.objects.get(group=khach_moi, customer=shop["Cường"])
    assert event.joined and event.run_id == run.pk
    member = GroupMember.objects.get(group=khach_moi, customer=shop["Cường"])
    assert member.joined_at == event.at


def test_leavers_are_deleted_and_recorded(tenant, shop, khach_moi):
    first = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    delivered = Order.objects.filter(customer=shop["An"]).first()
    order_services.order_set_status(tenant=tenant, actor=SYSTEM, order=delivered,
                                    status=OrderStatus.CANCELLED)  # An: 4 orders now
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert members(khach_moi) == {"Giang"}
    assert (run.joined, run.left, run.total) == (0, 1, 1)
    history = list(GroupEvent.objects.filter(group=khach_moi, customer=shop["An"])
                   .order_by("pk").values_list("joined", "run"))
    assert history == [(True, first.pk), (False, run.pk)]
    khach_moi.refresh_from_db()
    assert khach_moi.member_count == 1


def test_a_second_run_with_nothing_changed_writes_nothing(tenant, shop, khach_moi,
                                                          django_assert_max_num_queries):
    services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    before = rows()
    # A constant number of statements whatever the number of members: the diff is SQL
    # (PostgreSQL: one statement; SQLite: four) plus the lock, the run and the group row.
    with django_assert_max_num_queries(14):
        run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert rows() == before
    assert (run.state, run.joined, run.left, run.total) == (GroupRun.State.DONE, 0, 0, 2)
    assert GroupRun.objects.filter(group=khach_moi).count() == 2  # the run itself is kept


def test_the_statements_do_not_grow_with_the_members(tenant, django_assert_max_num_queries):
    group = CustomerGroupFactory(tenant=tenant, kind=GroupKind.FIXED)
    GroupPinFactory.create_batch(40, tenant=tenant, group=group)
    with django_assert_max_num_queries(14):
        run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=group)
    assert run.joined == 40


def test_the_run_records_its_figures(tenant, shop, khach_moi):
    khach_moi.version = 3
    khach_moi.save(update_fields=["version"])
    before = timezone.now()
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi,
                                   trigger=GroupRun.Trigger.NIGHTLY)
    run.refresh_from_db()
    assert (run.state, run.trigger, run.version, run.error) == (
        GroupRun.State.DONE, GroupRun.Trigger.NIGHTLY, 3, "")
    assert run.tenant_id == tenant.pk and run.group_id == khach_moi.pk
    assert run.duration_ms >= 0 and run.finished_at >= run.started_at >= before
    khach_moi.refresh_from_db()
    assert khach_moi.member_count == 2
    assert khach_moi.recomputed_version == 3
    assert khach_moi.recompute_state == RecomputeState.IDLE
    assert khach_moi.recomputed_at == run.finished_at


def test_pins_always_include_and_always_exclude(tenant, shop, khach_moi):
    GroupPin.objects.create(tenant=tenant, group=khach_moi, customer=shop["Dũng"],
                            mode=PinMode.INCLUDE)  # matches nothing: in by hand
    GroupPin.objects.create(tenant=tenant, group=khach_moi, customer=shop["Giang"],
                            mode=PinMode.EXCLUDE)  # matches: out by hand
    GroupPin.objects.create(tenant=tenant, group=khach_moi, customer=shop["An"],
                            mode=PinMode.INCLUDE)  # matches and pinned: once
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert members(khach_moi) == {"An", "Dũng"}
    assert (run.joined, run.left, run.total) == (2, 0, 2)
    GroupPin.objects.filter(group=khach_moi, customer=shop["Giang"]).delete()
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert members(khach_moi) == {"An", "Dũng", "Giang"}
    assert (run.joined, run.left, run.total) == (1, 0, 3)


def test_a_fixed_list_holds_its_include_pins(tenant, shop):
    group = CustomerGroupFactory(tenant=tenant, kind=GroupKind.FIXED, rule=KHACH_MOI)
    for name in ("Bình", "Dũng"):
        GroupPin.objects.create(tenant=tenant, group=group, customer=shop[name])
    GroupPin.objects.create(tenant=tenant, group=group, customer=shop["An"],
                            mode=PinMode.EXCLUDE)
    services.group_recompute(tenant=tenant, actor=SYSTEM, group=group)
    assert members(group) == {"Bình", "Dũng"}  # the rule and exclude pins are not read
    GroupPin.objects.filter(group=group, customer=shop["Bình"]).delete()
    with transaction.atomic():
        locked = CustomerGroup.objects.select_for_update().get(pk=group.pk)
        diff = services.apply_diff(tenant, locked)  # what an edit of the list calls
    assert diff == services.Diff(joined=0, left=1, total=1)
    assert members(group) == {"Dũng"}
    assert GroupEvent.objects.get(group=group, customer=shop["Bình"], joined=False).run is None


def test_an_empty_rule_matches_nobody(tenant, shop):
    group = CustomerGroupFactory(tenant=tenant, rule={"conditions": []})
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=group)
    assert (run.state, run.total) == (GroupRun.State.DONE, 0)
    GroupPin.objects.create(tenant=tenant, group=group, customer=shop["Dũng"])
    services.group_recompute(tenant=tenant, actor=SYSTEM, group=group)
    assert members(group) == {"Dũng"}


def test_an_archived_group_is_refused(tenant, shop, khach_moi):
    khach_moi.archived_at = timezone.now()
    khach_moi.save(update_fields=["archived_at"])
    with pytest.raises(ValidationError) as refused:
        services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert refused.value.code == "archived"
    with pytest.raises(ValidationError) as refused:
        services.group_recompute_request(tenant=tenant, actor=SYSTEM, group=khach_moi,
                                         trigger=GroupRun.Trigger.MANUAL)
    assert refused.value.code == "archived"
    assert rows() == (0, 0) and not GroupRun.objects.exists()


def test_staff_may_not_recompute_and_nothing_is_written(tenant, shop, khach_moi, staff,
                                                        other_manager):
    for actor in (staff, other_manager):
        with pytest.raises(AccessDenied):
            services.group_recompute(tenant=tenant, actor=actor, group=khach_moi)
        with pytest.raises(AccessDenied):
            services.group_recompute_request(tenant=tenant, actor=actor, group=khach_moi,
                                             trigger=GroupRun.Trigger.MANUAL)
    assert rows() == (0, 0) and not GroupRun.objects.exists()
    khach_moi.refresh_from_db()
    assert khach_moi.recompute_state == RecomputeState.IDLE


def test_another_shops_group_is_refused(tenant, other_tenant, khach_moi):
    with pytest.raises(ValidationError):
        services.group_recompute(tenant=other_tenant, actor=SYSTEM, group=khach_moi)
    assert not GroupRun.objects.exists()


def test_an_invalid_rule_records_a_failed_run_and_changes_nothing(tenant, shop, khach_moi):
    services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    before = rows()
    CustomerGroup.objects.filter(pk=khach_moi.pk).update(
        rule={"conditions": [{"field": "no_such_field", "op": "gte", "value": 1}]})
    khach_moi.refresh_from_db()
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=khach_moi)
    assert run.state == GroupRun.State.FAILED and run.error
    assert rows() == before
    khach_moi.refresh_from_db()
    assert khach_moi.recompute_state == RecomputeState.FAILED
    assert khach_moi.member_count == 2  # the members of the last good run stay


def test_the_request_queues_the_task_after_commit(tenant, shop, khach_moi, manager,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.group_recompute_request(tenant=tenant, actor=manager, group=khach_moi,
                                         trigger=GroupRun.Trigger.EDIT)
    khach_moi.refresh_from_db()
    assert khach_moi.recompute_state == RecomputeState.QUEUED
    assert not GroupRun.objects.exists()  # nothing runs before the commit
    for callback in callbacks:
        callback()  # Celery runs eagerly in tests
    khach_moi.refresh_from_db()
    assert khach_moi.recompute_state == RecomputeState.IDLE
    run = GroupRun.objects.get()
    assert (run.trigger, run.total) == (GroupRun.Trigger.EDIT, 2)


def test_recompute_all_skips_archived_groups_and_fixed_lists_except_nightly(tenant, shop,
                                                                            khach_moi):
    archived = CustomerGroupFactory(tenant=tenant, rule=KHACH_MOI, archived_at=timezone.now())
    fixed = CustomerGroupFactory(tenant=tenant, kind=GroupKind.FIXED)
    runs = services.groups_recompute_all(tenant=tenant, trigger=GroupRun.Trigger.STATS)
    assert [r.group_id for r in runs] == [khach_moi.pk]
    runs = services.groups_recompute_all(tenant=tenant, trigger=GroupRun.Trigger.NIGHTLY)
    assert [r.group_id for r in runs] == [khach_moi.pk, fixed.pk]
    assert not GroupRun.objects.filter(group=archived).exists()


def test_a_failing_group_does_not_stop_the_others(tenant, shop, khach_moi):
    broken = CustomerGroupFactory(
        tenant=tenant, rule={"conditions": [{"field": "orders", "op": "gte", "value": -5}]})
    runs = services.groups_recompute_all(tenant=tenant, trigger=GroupRun.Trigger.NIGHTLY)
    states = {r.group_id: r.state for r in runs}
    assert states == {broken.pk: GroupRun.State.FAILED, khach_moi.pk: GroupRun.State.DONE}


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_group_are_serialized(tenant, shop, khach_moi, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (select_for_update is a no-op there): it "
                    "serializes every writer on the database file instead")
    from groups.services import recompute

    real_apply = recompute.apply_diff
    inside = threading.Event()

    def slow_apply(tenant, group, run=None):
        diff = real_apply(tenant, group, run)
        if threading.current_thread().name == "first":
            inside.set()
            time.sleep(0.5)  # the second run asks for the lock now
        return diff

    monkeypatch.setattr(recompute, "apply_diff", slow_apply)
    runs, errors = {}, []

    def work(name):
        try:
            group = CustomerGroup.objects.get(pk=khach_moi.pk)
            runs[name] = services.group_recompute(tenant=tenant, actor=SYSTEM, group=group)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    first = threading.Thread(target=work, args=("first",), name="first")
    second = threading.Thread(target=work, args=("second",), name="second")
    first.start()
    assert inside.wait(10)
    second.start()
    first.join(10)
    second.join(10)
    assert not errors
    a, b = runs["first"], runs["second"]
    assert (a.joined, a.left, a.total) == (2, 0, 2)
    assert (b.joined, b.left, b.total) == (0, 0, 2)  # waited, then found nothing to do
    assert b.started_at >= a.finished_at  # its run began after the first one committed
    assert GroupEvent.objects.filter(group=khach_moi).count() == 2
    assert CustomerStats.objects.exists()


def test_a_customer_matching_twice_is_one_member(tenant, shop):
    """A rule over a many-valued field (two tags of one customer) or a pin on a customer the
    rule also holds for: one member, one event, the right total."""
    from customers.models import CustomerTag
    from tests.customers.factories import TagFactory

    tags = TagFactory.create_batch(2, tenant=tenant)
    for tag in tags:
        CustomerTag.objects.create(tenant=tenant, customer=shop["An"], tag=tag)
    group = CustomerGroupFactory(tenant=tenant, rule={"conditions": [
        {"any": [{"field": "tags", "op": "any", "value": [t.pk for t in tags]},
                 {"field": "orders", "op": "gte", "value": 5}]}]})
    GroupPin.objects.create(tenant=tenant, group=group, customer=shop["An"])
    run = services.group_recompute(tenant=tenant, actor=SYSTEM, group=group)
    assert members(group) == {"An", "Bình", "Giang"}
    assert (run.joined, run.total) == (3, 3) == (
        GroupEvent.objects.filter(group=group).count(), GroupMember.objects.count())


def test_the_diff_puts_the_callers_settings_back(tenant, shop, khach_moi):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL settings")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '5MB'")
        locked = CustomerGroup.objects.select_for_update().get(pk=khach_moi.pk)
        services.apply_diff(tenant, locked)
        cursor.execute("SELECT current_setting('work_mem'), current_setting('jit')")
        assert cursor.fetchone()[0] == "5MB"
