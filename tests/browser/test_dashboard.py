"""The dashboard in Chromium: the charts draw (Chart.js from our files, data from
json_script), nothing on the console, no sideways scroll at laptop and phone width, for the
owner and for a collaborator."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers.defaults import seed_defaults
from customers.models import Source
from orders import services
from tests.crm.factories import MembershipFactory
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(owner):
    cache.clear()
    seed_defaults(owner.tenant)
    collaborator = MembershipFactory(tenant=owner.tenant, role="collaborator")
    channels = list(Source.objects.for_tenant(owner.tenant).filter(parent__isnull=False)[:3])
    now = timezone.now()
    for i in range(8):
        customer = CustomerFactory(tenant=owner.tenant, source=channels[i % 3],
                                   assigned_staff=owner,
                                   collaborator=collaborator if i % 2 else None)
        services.order_create(tenant=owner.tenant, actor=SYSTEM, customer=customer, data={
            "total_amount": 1_500_000 * (i + 1), "status": "delivered",
            "ordered_at": now - datetime.timedelta(days=20 * i),
            "delivered_at": now - datetime.timedelta(days=20 * i), "paid_amount": 1_000_000})
    yield owner, collaborator
    cache.clear()


def watch_console(page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.parametrize("who", ["owner", "collaborator"])
def test_dashboard_charts_render(page, shop, browser_login, shot, who):
    member = dict(zip(["owner", "collaborator"], shop, strict=True))[who]
    errors = watch_console(page)
    browser_login(member)
    charts = page.locator("canvas[data-chart]")
    expected = 3 if who == "owner" else 2  # collaborators do not see revenue
    expect(charts).to_have_count(expected)
    for i in range(expected):
        expect(charts.nth(i)).to_have_attribute("data-chart-drawn", "1")
        assert charts.nth(i).bounding_box()["height"] > 100
    expect(page.get_by_test_id("kpi-customers.new")).to_be_visible()
    assert (page.get_by_test_id("kpi-orders.revenue").count() == 1) == (who == "owner")
    shot(page, f"dashboard-{who}")
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        expect(charts.first).to_have_attribute("data-chart-drawn", "1")
        assert page.evaluate("document.documentElement.scrollWidth") == width
        shot(page, f"dashboard-{who}-{width}")
    assert errors == []


def test_refresh_button_and_kpi_link(page, shop, browser_login):
    owner, _collaborator = shop
    browser_login(owner)
    page.get_by_test_id("dashboard-refresh").get_by_role("button").click()
    page.wait_for_url("**/admin/")
    page.get_by_test_id("kpi-orders.debt").click()
    page.wait_for_url("**/admin/customers/?debt_min=1")
    expect(page.get_by_test_id("result-count")).to_contain_text("8")
