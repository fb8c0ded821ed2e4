"""The point ledger under concurrency, and its append-only trigger: PostgreSQL only (SQLite
has no row locks — it serializes every writer on the database file — and no trigger). CI
runs these on PostgreSQL. Each thread has its own connection, closed when it ends."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.services import customers_merge
from loyalty import services
from loyalty.models import OrderPoints, PointEntry
from orders.models import Order, OrderStatus
from orders.stats import contribution, month_start
from tests.loyalty.factories import account, customer, give, order, program_on

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and the ledger trigger are PostgreSQL's")


def at_once(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; each result or exception."""
    gate = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            gate.wait(30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_fifty_adjustments_of_one_customer_at_once_are_all_counted(tenant, manager):
    program_on(tenant)
    c = customer(tenant)
    results = at_once(50, lambda i: services.points_adjust(
        tenant=tenant, actor=manager, customer=c, delta=i + 1, reason=f"Lần {i}"))
    assert not [r for r in results if isinstance(r, Exception)]
    a = account(c)
    assert (a.balance, a.lifetime) == (sum(range(1, 51)),) * 2
    assert PointEntry.objects.filter(customer=c).count() == 50
    assert a.tier.name == "Bạc"  # 1.275 lifetime points
    assert services.ledger_verify(tenant=tenant).mismatches == 0


def test_two_workers_earning_the_same_order_at_once_write_one_entry(tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 5)  # the account exists: its creation alone does not serialize them
    o = order(tenant, c, total=800_000, status="shipping")
    before = contribution(o)
    # Delivered in the database without the event, which the two workers then both handle
    # (a retried task next to the first one).
    now = timezone.now()
    Order.objects.filter(pk=o.pk).update(status=OrderStatus.DELIVERED, delivered_at=now,
                                         delivered_month=month_start(now))
    o = Order.objects.get(pk=o.pk)
    after = contribution(o)

    def work(i):
        with transaction.atomic():
            written = services.points_follow_order(tenant=tenant, order=o, before=before,
                                                   after=after)
            time.sleep(0.3)  # hold the transaction: the other worker reads meanwhile
            return len(written)

    results = at_once(2, work)
    assert sorted(results) == [0, 1], results  # no error: the second found nothing to do
    assert list(PointEntry.objects.filter(order=o).values_list("kind", "delta")) == [
        ("earn", 80)]
    assert OrderPoints.objects.get(order=o).earned == 80
    assert account(c).balance == 85
    assert services.ledger_verify(tenant=tenant).mismatches == 0


def test_fifty_orders_using_points_against_a_balance_for_ten(tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 100)

    def work(i):
        return order(tenant, c, total=500_000, status="new", points_redeemed=10)

    results = at_once(50, work)
    made = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(made), len(refused)) == (10, 40), [r for r in results
                                                    if not isinstance(r, Order | ValidationError)]
    for error in refused:
        assert list(error.message_dict) == ["points_redeemed"]
        assert "0" in error.message_dict["points_redeemed"][0]  # "only 0 points"
    assert account(c).balance == 0
    assert PointEntry.objects.filter(customer=c, kind="redeem").count() == 10
    assert Order.objects.filter(customer=c).count() == 10
    assert services.ledger_verify(tenant=tenant).mismatches == 0


def test_the_database_refuses_to_change_or_delete_a_ledger_row(tenant):
    program_on(tenant)
    c = customer(tenant)
    entry = give(tenant, c, 10).entry
    for statement in ("UPDATE loyalty_pointentry SET delta = 99 WHERE id = %s",
                      "DELETE FROM loyalty_pointentry WHERE id = %s"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    # The merge's setting lets the customer move, and nothing else.
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("SELECT set_config('loyalty.merging', 'on', true)")
        cursor.execute("UPDATE loyalty_pointentry SET delta = 99 WHERE id = %s", [entry.pk])
    assert PointEntry.objects.get(pk=entry.pk).delta == 10


def test_a_merge_moves_the_ledger_through_the_trigger(tenant, manager):
    program_on(tenant)
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    give(tenant, a, 10)
    give(tenant, b, 20)
    order(tenant, b, total=300_000)
    survivor = customers_merge(tenant=tenant, actor=manager, survivor=a, merged=b)
    assert PointEntry.objects.filter(customer=survivor).count() == 3
    assert account(survivor).balance == 60
    # The setting was the merge's alone: afterwards the trigger refuses again.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE loyalty_pointentry SET customer_id = %s", [b.pk])
    assert services.ledger_verify(tenant=tenant).mismatches == 0
