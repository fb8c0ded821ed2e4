"""The orders app's dashboard cards: delivered revenue, orders, customers who bought, debt
and revenue by month on a small shop, with Vietnam-time month boundaries, own-customers
scopes, another shop never counted, and links that open a list with the same count."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest

from crm.access import SYSTEM
from crm.dashboard import DashboardContext
from orders import dashboard, services
from tests.customers.factories import CustomerFactory
from tests.customers.pages import result_count

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.datetime(2026, 3, 15, 10, tzinfo=VN)



def at(*args):
    return datetime.datetime(*args, tzinfo=VN)


def order(tenant, customer, total=1_000_000, status="delivered", delivered=None,
          ordered=None, paid=None):
    ordered = ordered or (delivered - datetime.timedelta(hours=2) if delivered else NOW)
    return services.order_create(tenant=tenant, actor=SYSTEM, customer=customer, data={
        "total_amount": total, "status": status, "ordered_at": ordered,
        "delivered_at": delivered, "paid_amount": total if paid is None else paid})


def ctx(member, now=NOW):
    return DashboardContext.build(member.tenant, member, now=now)


@pytest.fixture
def shop(owner, other_tenant):
    """Two customers of the shop and one of another shop, with orders around 1 March."""
    t = owner.tenant
    a, b = CustomerFactory(tenant=t), CustomerFactory(tenant=t)
    # 1 March 00:30 in Vietnam is 28 February in UTC: March's revenue.
    order(t, a, 1_000_000, delivered=at(2026, 3, 1, 0, 30))
    order(t, a, 2_000_000, delivered=at(2026, 3, 14, 12))
    order(t, b, 500_000, delivered=at(2026, 3, 10), paid=100_000)
    order(t, b, 9_000_000, status="cancelled")
    order(t, b, 700_000, status="new", ordered=at(2026, 3, 12))
    # February: up to the 15th at 10:00 is "the same period".
    order(t, a, 4_000_000, delivered=at(2026, 2, 28, 23, 30))
    order(t, b, 1_000_000, delivered=at(2026, 2, 14), paid=0)
    order(t, a, 600_000, delivered=at(2025, 3, 20))  # 12 months back: outside the chart
    other = CustomerFactory(tenant=other_tenant)
    order(other_tenant, other, 50_000_000, delivered=at(2026, 3, 5), paid=0)
    return a, b


def test_revenue_this_month_against_the_same_days_of_last_month(owner, shop):
    data = dashboard.revenue(ctx(owner))
    assert data["value"] == 3_500_000 and data["count"] == 3
    assert data["compare"]["previous"] == 1_000_000 and data["compare"]["pct"] == 250
    assert data["url"] == "/admin/orders/?status=delivered&delivered_from=01%2F03%2F2026"


def test_revenue_is_net_of_returns(owner, shop):
    a, _b = shop
    delivered = a.orders.get(total_amount=2_000_000)
    services.order_return(tenant=owner.tenant, actor=SYSTEM, order=delivered,
                          amount=500_000, returned_at=NOW)
    assert dashboard.revenue(ctx(owner))["value"] == 3_000_000


def test_orders_placed_whatever_their_status(owner, shop):
    data = dashboard.orders_placed(ctx(owner))
    # Ordered in March: the three delivered (the 1 March one was ordered on 28 February at
    # 22:30, Vietnam time: February), the cancelled one (today) and the new one.
    assert data["value"] == 4
    assert data["compare"]["previous"] == 1  # 14 February (28 February is after the 15th)


def test_customers_who_bought(owner, shop):
    data = dashboard.buyers(ctx(owner))
    assert (data["value"], data["compare"]["previous"]) == (2, 1)
    assert data["url"] == "/admin/customers/?bought_from=01%2F03%2F2026"


def test_debt_outstanding(owner, shop):
    data = dashboard.debt(ctx(owner))
    assert (data["value"], data["count"]) == (400_000 + 1_000_000, 1)
    assert data["url"] == "/admin/customers/?debt_min=1"


def test_revenue_by_month(owner, shop):
    data = dashboard.revenue_by_month(ctx(owner))
    months = [item["label"] for item in data["items"]]
    assert len(months) == 12 and months[0] == "04/2025" and months[-1] == "03/2026"
    by_month = {item["label"]: (item["value"], item["orders"]) for item in data["items"]}
    assert by_month["03/2026"] == (3_500_000, 3) and by_month["02/2026"] == (5_000_000, 2)
    assert by_month["01/2026"] == (0, 0) and data["total"] == 8_500_000
    feb = data["items"][-2]["url"]
    assert "delivered_from=01%2F02%2F2026" in feb and "delivered_to=28%2F02%2F2026" in feb


def test_collaborator_and_own_customers_staff_see_their_own(owner, staff, collaborator, shop):
    a, b = shop
    a.collaborator = collaborator
    a.save(update_fields=["collaborator"])
    assert dashboard.buyers(ctx(collaborator))["value"] == 1
    assert dashboard.revenue(ctx(collaborator))["value"] == 3_000_000
    owner.tenant.staff_see_own_customers_only = True
    owner.tenant.save()
    b.assigned_staff = staff
    b.save(update_fields=["assigned_staff"])
    staff.refresh_from_db()
    assert dashboard.revenue(ctx(staff))["value"] == 500_000
    assert dashboard.debt(ctx(staff))["value"] == 1_400_000
    assert dashboard.orders_placed(ctx(staff))["value"] == 3
    assert dashboard.revenue_by_month(ctx(staff))["total"] == 1_500_000


def test_links_open_lists_with_the_same_count(login, owner, other_tenant):
    t = owner.tenant
    now = DashboardContext.build(t, owner)
    a, b, c = CustomerFactory.create_batch(3, tenant=t)
    order(t, a, 1_000_000, delivered=now.now - datetime.timedelta(minutes=5), paid=0)
    order(t, a, 2_000_000, delivered=now.month_start + datetime.timedelta(minutes=1))
    order(t, b, 300_000, delivered=now.now - datetime.timedelta(minutes=3))
    order(t, c, 400_000, status="new", ordered=now.now - datetime.timedelta(minutes=1))
    order(t, c, 400_000, delivered=now.month_start - datetime.timedelta(minutes=1), paid=0)
    x = CustomerFactory(tenant=other_tenant)
    order(other_tenant, x, 400_000, delivered=now.now - datetime.timedelta(minutes=1), paid=0)
    client = login(owner)

    def listed(url, testid):
        html = client.get(url).content.decode()
        return int(re.sub(r"\D", "", re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<',
                                               html).group(1)))

    revenue = dashboard.revenue(now)
    assert listed(revenue["url"], "order-count") == revenue["count"] == 3
    placed = dashboard.orders_placed(now)
    assert listed(placed["url"], "order-count") == placed["value"]
    buyers = dashboard.buyers(now)
    assert result_count(client, buyers["url"]) == buyers["value"] == 2
    debt = dashboard.debt(now)
    assert result_count(client, debt["url"]) == debt["count"] == 2
    month = dashboard.revenue_by_month(now)["items"][-1]
    assert listed(month["url"], "order-count") == month["orders"] == 3
