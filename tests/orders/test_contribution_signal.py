"""The contract between orders and the apps above it (issue 12): every order service
announces a change of what the order counts for with ``order_contribution_changed``,
inside its own transaction, with the order's Contribution before and after; the
lifecycle stage changes only through the customers app's services."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from crm.access import SYSTEM
from crm.models import AuditLog
from customers import services as customer_services
from customers.models import Customer
from orders import services
from orders.models import CustomerStats, MonthlySpend, Order, Payment, Return
from orders.signals import order_contribution_changed
from orders.stats import NOTHING, Contribution, month_start
from tests.loyalty.factories import give, program_on

pytestmark = pytest.mark.django_db
UID = "tests.orders.contribution_recorder"


def customer(tenant, phone="0912000001"):
    return customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Nguyễn Văn A", "phone": phone})


def order(tenant, c=None, total=1_000_000, status="delivered", **data):
    return services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                                 data={"total_amount": total, "status": status, **data})


@pytest.fixture
def sent():
    """Every announcement, with what the database said while the receiver ran."""
    calls = []

    def record(sender, tenant, order, before, after, actor, **kwargs):
        calls.append({
            "sender": sender, "tenant": tenant, "order": order, "before": before,
            "after": after, "actor": actor,
            # The order is saved and the customer's figures moved when receivers run.
            "status_in_db": Order.objects.get(pk=order.pk).status,
            "customer_in_db": Order.objects.get(pk=order.pk).customer_id,
            "delivered_orders": CustomerStats.objects.filter(customer_id=order.customer_id)
            .values_list("delivered_orders", flat=True).first(),
        })

    order_contribution_changed.connect(record, weak=False, dispatch_uid=UID)
    yield calls
    order_contribution_changed.disconnect(dispatch_uid=UID)


@pytest.fixture
def refusing():
    """A receiver that refuses every change (as loyalty refuses points over the balance)."""

    def refuse(sender, **kwargs):
        raise ValidationError({"points_redeemed": "Refused by a receiver."})

    order_contribution_changed.connect(refuse, weak=False, dispatch_uid=UID + ".refuse")
    yield
    order_contribution_changed.disconnect(dispatch_uid=UID + ".refuse")


def delivered(o, *, paid=0, returned=0, points=0) -> Contribution:
    """What a delivered order ``o`` (as it is now) counts for."""
    worth = o.total_amount - returned
    return Contribution(delivered=1, spend=worth, debt=max(worth - paid, 0),
                        returned=returned, month=month_start(o.delivered_at),
                        at=o.delivered_at, paid=min(paid, worth), points=points)


# --- what is announced ---------------------------------------------------------------------

def test_delivery_is_announced_once_with_before_and_after(tenant, manager, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000, status="shipping")
    assert sent[-1]["before"] == NOTHING  # entered: it starts counting for its customer
    assert sent[-1]["after"] == Contribution()  # ... as nothing yet, with a customer
    sent.clear()
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="delivered")
    o.refresh_from_db()
    [call] = sent
    assert call["sender"] is Order and call["tenant"] == tenant and call["actor"] == manager
    assert call["order"].pk == o.pk and call["order"].status == "delivered"
    assert call["before"] == Contribution()
    assert call["after"] == delivered(o) == Contribution(
        delivered=1, spend=500_000, debt=500_000, month=month_start(o.delivered_at),
        at=o.delivered_at)
    assert (call["status_in_db"], call["delivered_orders"]) == ("delivered", 1)


def test_order_entered_delivered_and_paid(tenant, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000, paid_amount=200_000)
    [call] = sent
    assert (call["before"], call["after"]) == (NOTHING, delivered(o, paid=200_000))
    assert call["actor"] is SYSTEM


def test_payment(tenant, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000)
    sent.clear()
    services.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=300_000)
    [call] = sent
    assert call["before"] == delivered(o)
    assert call["after"] == delivered(o, paid=300_000)
    assert (call["after"].paid, call["after"].debt) == (300_000, 200_000)


def test_cancellation_after_delivery(tenant, manager, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000, paid_amount=500_000)
    sent.clear()
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="cancelled")
    [call] = sent
    assert call["before"] == delivered(o, paid=500_000)
    assert call["after"] == Contribution()  # nothing: not delivered, nothing paid counts
    assert (call["status_in_db"], call["delivered_orders"]) == ("cancelled", 0)


def test_partial_then_full_return(tenant, manager, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000, paid_amount=500_000)
    sent.clear()
    services.order_return(tenant=tenant, actor=manager, order=o, amount=200_000)
    [call] = sent
    assert call["before"] == delivered(o, paid=500_000)
    # What is kept counts: spend and paid are the 300.000 not sent back.
    assert call["after"] == delivered(o, paid=500_000, returned=200_000)
    assert (call["after"].spend, call["after"].paid, call["after"].returned) == (
        300_000, 300_000, 200_000)
    sent.clear()
    services.order_return(tenant=tenant, actor=manager, order=o, amount=300_000)
    [call] = sent
    assert call["before"] == delivered(o, paid=500_000, returned=200_000)
    assert call["after"] == Contribution(returned=500_000)  # returned in full: counts no more
    assert call["order"].status == "returned"


def test_re_delivery_cancelled_new_delivered(tenant, manager, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000)
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="cancelled")
    sent.clear()
    # Back to new: it counted for nothing and still does (no points used on it).
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="new")
    assert sent == []
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="delivered")
    o.refresh_from_db()
    [call] = sent
    assert call["before"] == Contribution()
    assert call["after"] == delivered(o)  # counted again, at its new delivery


def test_link_to_another_customer(tenant, manager, sent):
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    o = order(tenant, a, total=500_000)
    sent.clear()
    services.order_link_customer(tenant=tenant, actor=manager, order=o, customer=b)
    [call] = sent
    # The same contribution, for another customer: announced (receivers move what the
    # order counted for from one to the other).
    assert call["before"] == call["after"] == delivered(o)
    assert call["order"].customer_id == call["customer_in_db"] == b.pk
    sent.clear()
    services.order_link_customer(tenant=tenant, actor=manager, order=o, customer=None)
    [call] = sent
    assert (call["before"], call["after"]) == (delivered(o), NOTHING)


def test_points_used_count_while_the_order_stands(tenant, manager, sent):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 500)
    o = services.order_create(
        tenant=tenant, actor=manager, customer=c, data={"status": "new", "points_redeemed": 100},
        lines=[{"product_name": "Trà", "quantity": 1, "unit_price": 300_000}])
    [call] = sent
    assert (call["before"], call["after"]) == (NOTHING, Contribution(points=100))
    sent.clear()
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="cancelled")
    assert (sent[-1]["before"], sent[-1]["after"]) == (Contribution(points=100), Contribution())
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="new")
    assert sent[-1]["after"] == Contribution(points=100)  # back: the points are used again
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="delivered")
    o.refresh_from_db()
    assert sent[-1]["after"] == delivered(o, points=100)
    services.order_return(tenant=tenant, actor=manager, order=o, amount=100_000)
    assert sent[-1]["after"].points == 100  # a partial return keeps them used
    services.order_return(tenant=tenant, actor=manager, order=o, amount=100_000)
    assert sent[-1]["after"] == Contribution(returned=200_000)  # in full: given back


def test_nothing_changed_nothing_announced(tenant, manager, sent):
    c = customer(tenant)
    o = order(tenant, c, total=500_000, status="new")
    sent.clear()
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="confirmed")
    services.order_set_status(tenant=tenant, actor=manager, order=o, status="confirmed")
    services.order_link_customer(tenant=tenant, actor=manager, order=o, customer=c)
    assert sent == []
    # An order of nobody counts for nobody, whatever happens to it.
    walk_in = order(tenant, None, total=200_000, status="new")
    services.order_set_status(tenant=tenant, actor=manager, order=walk_in, status="delivered")
    assert sent == []
    # A refund of a cancelled order gives money back but changes nothing it counts for.
    paid = order(tenant, c, total=300_000, paid_amount=300_000)
    services.order_set_status(tenant=tenant, actor=manager, order=paid, status="cancelled")
    sent.clear()
    services.order_refund(tenant=tenant, actor=manager, order=paid, amount=300_000)
    assert sent == []


# --- inside the transaction ----------------------------------------------------------------

def test_a_refusing_receiver_undoes_the_delivery(tenant, manager, refusing):
    c = customer(tenant)
    with mock.patch.object(order_contribution_changed, "send"):  # entered without it
        o = order(tenant, c, total=500_000, status="shipping")
    audits = AuditLog.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.order_set_status(tenant=tenant, actor=manager, order=o, status="delivered")
    assert refused.value.message_dict == {"points_redeemed": ["Refused by a receiver."]}
    o.refresh_from_db()
    assert (o.status, o.delivered_at) == ("shipping", None)
    stats = CustomerStats.objects.get(customer=c)
    assert (stats.delivered_orders, stats.total_spend, stats.last_order_at) == (0, 0, None)
    assert not MonthlySpend.objects.exists()
    assert Customer.objects.get(pk=c.pk).lifecycle_stage == "new"
    assert AuditLog.objects.count() == audits


def test_a_refusing_receiver_undoes_payment_return_link_and_creation(tenant, manager,
                                                                     refusing):
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    with mock.patch.object(order_contribution_changed, "send"):
        o = order(tenant, a, total=500_000)
    before = CustomerStats.objects.get(customer=a)
    for call in (
        lambda: services.order_record_payment(tenant=tenant, actor=manager, order=o,
                                              amount=100_000),
        lambda: services.order_return(tenant=tenant, actor=manager, order=o, amount=100_000),
        lambda: services.order_link_customer(tenant=tenant, actor=manager, order=o,
                                             customer=b),
        lambda: order(tenant, a, total=200_000),
    ):
        with pytest.raises(ValidationError):
            call()
    o.refresh_from_db()
    assert (o.paid_amount, o.returned_amount, o.customer_id) == (0, 0, a.pk)
    assert not Payment.objects.exists() and not Return.objects.exists()
    assert Order.objects.count() == 1  # the refused order was never written
    after = CustomerStats.objects.get(customer=a)
    assert (after.total_spend, after.debt) == (before.total_spend, before.debt)
    assert not CustomerStats.objects.filter(customer=b, delivered_orders__gt=0).exists()
    # Its number was not used up either: the next order takes it.
    with mock.patch.object(order_contribution_changed, "send"):
        assert order(tenant, a).code == "DH000002"


# --- the lifecycle stage belongs to the customers app -------------------------------------

def test_orders_change_the_stage_only_through_the_customers_service(tenant, manager):
    c = customer(tenant)
    o = order(tenant, c, total=500_000, status="shipping")
    follow = customer_services.customer_lifecycle_follow
    with mock.patch.object(customer_services, "customer_lifecycle_follow",
                           wraps=follow) as told:
        services.order_set_status(tenant=tenant, actor=manager, order=o, status="delivered")
    told.assert_called_once()
    assert told.call_args.kwargs["bought"] is True
    assert told.call_args.kwargs["customer"].pk == c.pk
    assert Customer.objects.get(pk=c.pk).lifecycle_stage == "purchased"
    # Without the customers service, no stage moves: orders never write the column.
    with mock.patch.object(customer_services, "customer_lifecycle_follow") as silent:
        services.order_set_status(tenant=tenant, actor=manager, order=o, status="cancelled")
    silent.assert_called_once()
    assert silent.call_args.kwargs["bought"] is False
    assert Customer.objects.get(pk=c.pk).lifecycle_stage == "purchased"


def test_nightly_repair_goes_through_the_customers_service(tenant):
    c = customer(tenant)
    order(tenant, c, total=500_000)
    Customer.objects.filter(pk=c.pk).update(lifecycle_stage="new")  # drifted
    with mock.patch.object(customer_services, "customers_set_lifecycle",
                           wraps=customer_services.customers_set_lifecycle) as told:
        assert services.lifecycle_recompute(tenant=tenant)["purchased"] == 1
    assert [call.kwargs["stage"] for call in told.call_args_list
            if call.kwargs["ids"]] == ["purchased"]
    assert Customer.objects.get(pk=c.pk).lifecycle_stage == "purchased"


def test_a_payment_never_asks_for_the_stage(tenant):
    c = customer(tenant)
    o = order(tenant, c, total=500_000)
    with mock.patch.object(customer_services, "customer_lifecycle_follow") as told:
        services.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=100_000)
    told.assert_not_called()
