import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from crm.access import SYSTEM
from crm.models import AuditLog
from customers import services as customer_services
from customers.models import Customer
from orders import services
from orders.models import CustomerStats, MonthlySpend, Order, OrderStatus
from orders.stats import month_start
from tests.loyalty.factories import program_on

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def customer(tenant, phone="0912000001", **data):
    return customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Nguyễn Văn A", "phone": phone, **data})


def order(tenant, c=None, total=1_000_000, status="delivered", **data):
    return services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                                 data={"total_amount": total, "status": status, **data})


def stats(c):
    return CustomerStats.objects.get(customer=c)


def stage(c):
    return Customer.objects.get(pk=c.pk).lifecycle_stage


def test_codes_and_lines_total(tenant):
    o = services.order_create(tenant=tenant, actor=SYSTEM, data={"discount": 10_000,
                                                             "shipping_fee": 30_000},
                              lines=[{"product_name": "Trà", "quantity": 2, "unit_price": 100_000}])
    assert o.code == "DH000001" and o.total_amount == 220_000
    assert o.lines.get().amount == 200_000


def test_first_delivered_order_makes_customer_purchased(tenant):
    c = customer(tenant, lifecycle_stage="potential")
    o = order(tenant, c, status="new")
    assert stage(c) == "potential"
    services.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="delivered")
    assert stage(c) == "purchased"
    s = stats(c)
    assert (s.delivered_orders, s.total_spend, s.average_order) == (1, 1_000_000, 1_000_000)
    assert AuditLog.objects.filter(action="customer.lifecycle").count() == 1


def test_cancelling_the_only_delivery_goes_back_to_new(tenant):
    c = customer(tenant)
    o = order(tenant, c)
    services.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="cancelled")
    assert stage(c) == "new"
    assert stats(c).delivered_orders == 0 and stats(c).last_order_at is None


def test_vip_when_a_month_passes_the_threshold(tenant):
    c = customer(tenant)
    order(tenant, c, total=20_000_000)
    assert stage(c) == "purchased"
    order(tenant, c, total=10_000_000)
    assert stage(c) == "vip"
    tenant.vip_threshold = 50_000_000
    tenant.save()
    assert services.lifecycle_recompute(tenant=tenant)["vip_expired"] == 1
    assert stage(c) == "purchased"


def test_vip_counts_one_calendar_month_in_vietnam_time(tenant):
    c = customer(tenant)
    now = datetime.datetime.now(VN)
    this_month = now.replace(day=1, hour=0, minute=30, second=0, microsecond=0)
    # 00:30 on the 1st in Hà Nội is still the previous day in UTC: it belongs to this month.
    o1 = order(tenant, c, total=20_000_000, delivered_at=this_month)
    assert o1.delivered_month == this_month.date()
    assert month_start(this_month.astimezone(datetime.UTC)) == this_month.date()
    last_month = this_month - datetime.timedelta(minutes=31)  # 23:59 the last day before
    order(tenant, c, total=20_000_000, delivered_at=last_month)
    assert stage(c) == "purchased"  # 20M + 20M, but in two different months
    months = dict(MonthlySpend.objects.filter(customer=c).values_list("month", "spend"))
    assert months == {this_month.date(): 20_000_000,
                      last_month.date().replace(day=1): 20_000_000}


def test_vip_window_expires_nightly(tenant):
    c = customer(tenant)
    three_months_ago = (datetime.datetime.now(VN).replace(day=15) - datetime.timedelta(days=95))
    order(tenant, c, total=40_000_000, delivered_at=three_months_ago)
    # The order is outside the default window (this and last month): no VIP.
    assert stage(c) == "purchased"
    Customer.objects.filter(pk=c.pk).update(lifecycle_stage="vip")
    result = services.lifecycle_recompute(tenant=tenant)
    assert result["vip_expired"] == 1 and stage(c) == "purchased"


def test_manual_stage_stays_before_first_order(tenant):
    c = customer(tenant, lifecycle_stage="potential")
    order(tenant, c, status="cancelled")
    assert stage(c) == "potential"


def test_returns_reduce_spend_and_full_return_stops_counting(tenant):
    c = customer(tenant)
    o = order(tenant, c, total=1_000_000, paid_amount=1_000_000)
    services.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=400_000, reason="Hỏng")
    s = stats(c)
    assert (s.total_spend, s.returned_amount, s.delivered_orders) == (600_000, 400_000, 1)
    services.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=600_000)
    o.refresh_from_db()
    assert o.status == OrderStatus.RETURNED
    s = stats(c)
    assert (s.total_spend, s.returned_amount, s.delivered_orders) == (0, 1_000_000, 0)
    with pytest.raises(ValidationError):
        services.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=1)


def test_return_more_than_left_or_on_undelivered_is_refused(tenant):
    o = order(tenant, total=100_000)
    with pytest.raises(ValidationError):
        services.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=100_001)
    new = order(tenant, status="new")
    with pytest.raises(ValidationError):
        services.order_return(tenant=tenant, actor=SYSTEM, order=new, amount=1)


def test_debt_is_total_minus_paid_on_delivered_orders(tenant):
    c = customer(tenant)
    o = order(tenant, c, total=1_000_000, paid_amount=300_000, status="shipping")
    assert stats(c).debt == 0  # not delivered yet
    services.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="delivered")
    assert stats(c).debt == 700_000
    services.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=200_000)
    assert stats(c).debt == 500_000
    with pytest.raises(ValidationError):
        services.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=500_001)
    services.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=100_000)
    assert stats(c).debt == 400_000


def test_invalid_status_change_is_refused(tenant):
    o = order(tenant, status="delivered")
    with pytest.raises(ValidationError):
        services.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="shipping")


def test_spend_in_last_three_months(tenant):
    c = customer(tenant)
    now = datetime.datetime.now(VN)
    order(tenant, c, total=100_000, delivered_at=now - datetime.timedelta(days=10))
    order(tenant, c, total=200_000, delivered_at=now - datetime.timedelta(days=120))
    s = stats(c)
    assert (s.spend_3_months, s.total_spend) == (100_000, 300_000)
    assert s.first_order_at < s.last_order_at


# --- linking orders to customers -----------------------------------------------------------

def test_order_links_by_phone_in_any_format(tenant):
    c = customer(tenant, phone="0912 345 678")
    o = order(tenant, contact={"name": "A", "phone": "+84912345678"})
    assert o.customer == c and stats(c).delivered_orders == 1


def test_order_links_by_email(tenant):
    c = customer(tenant, email="a@x.vn")
    assert order(tenant, contact={"email": "A@X.VN"}).customer == c


def test_ambiguous_contact_stays_unlinked(tenant):
    customer(tenant, phone="0912000001")
    customer(tenant, phone="0912000002", email="b@x.vn")
    o = order(tenant, contact={"phone": "0912000001", "email": "b@x.vn"})
    assert o.customer is None
    assert Customer.objects.count() == 2


def test_unknown_contact_creates_one_guest(tenant, lists):
    shopee = lists["sources"].get(code="shopee")
    o1 = order(tenant, channel=shopee, contact={"name": "Khách Shopee", "phone": "0977000111"})
    o2 = order(tenant, contact={"name": "Tên khác", "phone": "+84 977 000 111"})
    assert o1.customer == o2.customer
    guest = o1.customer
    assert guest.membership_state == "guest" and guest.source == shopee
    assert Customer.objects.count() == 1 and stats(guest).delivered_orders == 2


def test_guest_creation_can_be_switched_off(tenant):
    tenant.auto_create_guest_customers = False
    tenant.save()
    assert order(tenant, contact={"phone": "0977000111"}).customer is None
    assert not Customer.objects.exists()


def test_link_moves_stats_between_customers(tenant):
    a, b = customer(tenant, phone="0912000001"), customer(tenant, phone="0912000002")
    o = order(tenant, a, total=500_000)
    services.order_link_customer(tenant=tenant, actor=SYSTEM, order=o, customer=b)
    assert stats(a).total_spend == 0 and stats(b).total_spend == 500_000
    assert stage(a) == "new" and stage(b) == "purchased"
    row = AuditLog.objects.get(action="order.link")
    assert (row.before, row.after) == ({"customer": a.code}, {"customer": b.code})


def test_cross_shop_link_and_channel_refused(tenant, other_tenant):
    theirs = customer(other_tenant)
    o = order(tenant)
    with pytest.raises(ValidationError):
        services.order_link_customer(tenant=tenant, actor=SYSTEM, order=o, customer=theirs)
    with pytest.raises(ValidationError):
        order(tenant, theirs)


def test_merge_moves_orders_and_stats(tenant, manager):
    a, b = customer(tenant, phone="0912000001"), customer(tenant, phone="0912000002")
    order(tenant, a, total=100_000)
    order(tenant, b, total=200_000)
    survivor = customer_services.customers_merge(tenant=tenant, actor=manager,
                                                 survivor=a, merged=b)
    assert Order.objects.filter(customer=survivor).count() == 2
    assert stats(survivor).total_spend == 300_000
    assert MonthlySpend.objects.get(customer=survivor).spend == 300_000


@pytest.mark.parametrize("program", ["never", "off"])
def test_order_events_stay_a_few_statements(tenant, django_assert_num_queries, program):
    """Every order event is in the request path (and the ingest API): pin its statements.
    The shop runs no loyalty program (never set one up, or switched it off): loyalty asks
    one question to know it has nothing to do, and writes nothing."""
    if program == "off":
        program_on(tenant, enabled=False)
    c = customer(tenant)
    delivered = order(tenant, c, total=500_000)
    shipping = order(tenant, c, total=300_000, status="shipping")
    # A payment (8): the savepoint of the service's transaction, lock the order, update
    # it, insert the payment, one UPDATE ... RETURNING for the stats (no lifecycle: a
    # payment cannot move the stage), loyalty's one read of the shop's program together
    # with whether the order already counts for points (no program or off, and none:
    # nothing to do), the audit row, the savepoint's release.
    with django_assert_num_queries(8):
        services.order_record_payment(tenant=tenant, actor=SYSTEM, order=delivered,
                                      amount=100_000)
    # A delivery (10): the savepoint, lock the order, update it, the stats' UPDATE ...
    # RETURNING, this month's spend (its row is there: one UPDATE), the VIP check; the
    # stage through customers.services.customer_lifecycle_follow (the read of the stage,
    # unchanged: already Đã mua hàng; no savepoint of its own); loyalty's one read of the
    # program and the order's points (a delivery earns only with the program on: nothing
    # more); the audit row, the release.
    with django_assert_num_queries(10):
        services.order_set_status(tenant=tenant, actor=SYSTEM, order=shipping,
                                  status="delivered")
    assert (stats(c).delivered_orders, stats(c).debt) == (2, 700_000)
