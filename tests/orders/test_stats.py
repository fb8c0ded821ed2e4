"""The incremental aggregates every service keeps equal the set-based recompute."""

import datetime
import random

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.access import SYSTEM
from customers import services as customer_services
from orders import services
from orders.models import CustomerStats, MonthlySpend, Order, OrderStatus
from orders.stats import STATS_COLUMNS, recompute_batch

pytestmark = pytest.mark.django_db


def snapshot(tenant):
    stats = {s.customer_id: tuple(getattr(s, c) for c in STATS_COLUMNS)
             for s in CustomerStats.objects.filter(tenant=tenant)}
    months = sorted(MonthlySpend.objects.filter(tenant=tenant)
                    .values_list("customer_id", "month", "spend"))
    return stats, months


def random_events(tenant, customers, rng, steps):
    orders: list[Order] = []
    base = timezone.now() - datetime.timedelta(days=200)
    for _step in range(steps):
        event = rng.choice(["create", "create", "status", "pay", "return", "link", "link"])
        try:
            if event == "create" or not orders:
                status = rng.choice(list(OrderStatus.values[:5]))
                at = base + datetime.timedelta(days=rng.randint(0, 199), hours=rng.randint(0, 23))
                orders.append(services.order_create(
                    tenant=tenant, actor=SYSTEM, customer=rng.choice(customers + [None]),
                    data={"total_amount": rng.randint(0, 50) * 100_000, "status": status,
                          "ordered_at": at, "delivered_at": at + datetime.timedelta(days=1),
                          "paid_amount": 0}))
            else:
                order = rng.choice(orders)
                order.refresh_from_db()
                if event == "status":
                    services.order_set_status(tenant=tenant, actor=SYSTEM, order=order,
                                              status=rng.choice(OrderStatus.values[:5]))
                elif event == "pay":
                    services.order_record_payment(tenant=tenant, actor=SYSTEM, order=order,
                                                  amount=rng.randint(1, 20) * 100_000)
                elif event == "return":
                    services.order_return(tenant=tenant, actor=SYSTEM, order=order,
                                          amount=rng.randint(1, 20) * 100_000)
                else:
                    services.order_link_customer(tenant=tenant, actor=SYSTEM, order=order,
                                                 customer=rng.choice(customers + [None]))
        except ValidationError:
            pass  # a refused event (pay more than owed, return a new order...) changes nothing


@pytest.mark.parametrize("seed", range(8))
def test_incremental_stats_equal_full_recompute(tenant, seed):
    rng = random.Random(seed)
    customers = [customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": f"Khách {i}", "phone": f"09120000{i:02d}"})
        for i in range(4)]
    random_events(tenant, customers, rng, steps=60)
    incremental = snapshot(tenant)
    assert Order.objects.count() > 5
    ids = [c.pk for c in customers]
    changed = recompute_batch(tenant, min(ids), max(ids))
    assert snapshot(tenant) == incremental
    assert changed == 0


def test_recompute_repairs_drift_and_reports_changes(tenant):
    c = customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                          data={"full_name": "A", "phone": "0912000001"})
    services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                          data={"total_amount": 500_000, "status": "delivered"})
    CustomerStats.objects.filter(customer=c).update(total_spend=1, delivered_orders=9)
    MonthlySpend.objects.filter(customer=c).delete()
    assert services.aggregates_recompute(tenant_id=tenant.pk) == 1
    stats = CustomerStats.objects.get(customer=c)
    assert (stats.total_spend, stats.delivered_orders, stats.average_order) == (500_000, 1,
                                                                                500_000)
    assert MonthlySpend.objects.get(customer=c).spend == 500_000
    assert services.aggregates_recompute(tenant_id=tenant.pk) == 0


def test_average_order_is_rounded_down_like_the_incremental_update(tenant):
    # PostgreSQL's SUM(bigint) is numeric: without the cast the recompute rounded 100,000.67
    # up while the services round down, and every recompute "changed" such customers.
    c = customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                          data={"full_name": "A", "phone": "0912000001"})
    for amount in (100_000, 100_000, 100_002):
        services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                              data={"total_amount": amount, "status": "delivered"})
    assert CustomerStats.objects.get(customer=c).average_order == 100_000
    assert services.aggregates_recompute(tenant_id=tenant.pk) == 0
    assert CustomerStats.objects.get(customer=c).average_order == 100_000


def test_recompute_repairs_monthly_spend_rows(tenant):
    c = customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                          data={"full_name": "A", "phone": "0912000001"})
    other = customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                              data={"full_name": "B", "phone": "0912000002"})
    for who in (c, other):
        services.order_create(tenant=tenant, actor=SYSTEM, customer=who,
                              data={"total_amount": 500_000, "status": "delivered"})
    expected = snapshot(tenant)
    this_month = MonthlySpend.objects.get(customer=c).month
    MonthlySpend.objects.filter(customer=c).update(spend=1)  # drifted
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    MonthlySpend.objects.create(tenant=tenant, customer=c, month=last_month, spend=9)  # no order
    MonthlySpend.objects.create(tenant=tenant, customer=other, month=datetime.date(2020, 1, 1),
                                spend=9)  # before the VIP window
    services.aggregates_recompute(tenant_id=tenant.pk)
    assert snapshot(tenant) == expected


def test_recompute_in_batches_with_progress(tenant):
    for i in range(5):
        customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                          data={"full_name": f"K{i}", "phone": f"091200000{i}"})
    changed = services.aggregates_recompute(tenant_id=tenant.pk, job_id="job1", batch=2)
    assert changed == 5  # every customer gets its (zero) stats row
    assert services.recompute_progress(tenant, "job1")["finished"] is True
    assert CustomerStats.objects.filter(tenant=tenant).count() == 5


def test_recompute_never_touches_other_shops(tenant, other_tenant):
    mine = customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                             data={"full_name": "A", "phone": "0912000001"})
    theirs = customer_services.customer_create(tenant=other_tenant, actor=SYSTEM,
                                               data={"full_name": "B", "phone": "0912000001"})
    services.aggregates_recompute(tenant_id=tenant.pk)
    assert CustomerStats.objects.filter(customer=mine).exists()
    assert not CustomerStats.objects.filter(customer=theirs).exists()


def test_big_recompute_refreshes_planner_statistics(tenant, monkeypatch):
    """On PostgreSQL a recompute that changed many rows ANALYZEs the two aggregate tables
    (the threshold is lowered here); on SQLite nothing more happens."""
    from django.db import connection

    monkeypatch.setattr(services, "ANALYZE_AFTER_CHANGES", 2)
    for i in range(3):
        customer_services.customer_create(tenant=tenant, actor=SYSTEM,
                                          data={"full_name": f"K{i}", "phone": f"091200000{i}"})
    assert services.aggregates_recompute(tenant_id=tenant.pk) == 3
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'orders_customerstats'")
            assert cursor.fetchone()[0] >= 3  # -1 (never analyzed) without the ANALYZE
