"""The dashboard's frame (crm.dashboard, DashboardView): periods in Vietnam time, the cache
per shop and visibility scope, "Làm mới", and which cards a role sees."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import translation

from crm import registry
from crm.dashboard import DashboardContext, cache_key, compare
from tests.crm.factories import MembershipFactory
from tests.customers.factories import CustomerFactory

# Test databases reuse ids: a shop of an earlier test must not lend its figures.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = datetime.UTC


def test_month_starts_at_midnight_in_vietnam(owner):
    # 18:00 UTC on 28 February is already 1 March, 01:00 in Vietnam.
    ctx = DashboardContext.build(owner.tenant, owner, now=datetime.datetime(2026, 2, 28, 18,
                                                                            tzinfo=UTC))
    assert ctx.month_start == datetime.datetime(2026, 3, 1, tzinfo=VN)
    assert ctx.last_month_start == datetime.datetime(2026, 2, 1, tzinfo=VN)
    assert ctx.last_month_until == datetime.datetime(2026, 2, 1, 1, tzinfo=VN)
    assert ctx.first_day_param() == "01/03/2026"
    assert ctx.months(3) == [datetime.date(2026, 1, 1), datetime.date(2026, 2, 1),
                             datetime.date(2026, 3, 1)]


def test_same_period_of_a_shorter_month_stops_at_its_end(owner):
    ctx = DashboardContext.build(owner.tenant, owner,
                                 now=datetime.datetime(2026, 3, 31, 12, tzinfo=VN))
    assert ctx.last_month_until == datetime.datetime(2026, 3, 1, tzinfo=VN)
    ctx = DashboardContext.build(owner.tenant, owner,
                                 now=datetime.datetime(2026, 1, 10, 8, tzinfo=VN))
    assert ctx.last_month_start == datetime.datetime(2025, 12, 1, tzinfo=VN)
    assert ctx.last_month_until == datetime.datetime(2025, 12, 10, 8, tzinfo=VN)


def test_compare():
    assert compare(120, 100) == {"current": 120, "previous": 100, "pct": 20, "up": True,
                                 "down": False}
    assert compare(50, 100)["pct"] == 50 and compare(50, 100)["down"]
    assert compare(5, 0)["pct"] is None and compare(5, 0)["up"]
    assert compare(0, 0) == {"current": 0, "previous": 0, "pct": None, "up": False,
                             "down": False}


def test_cache_key_is_per_shop_month_and_visibility(owner, manager, staff, collaborator,
                                                    other_manager):
    card = registry.DashboardCard("x.figure", 1, lambda ctx: {})
    mine = registry.DashboardCard("x.mine", 1, lambda ctx: {}, personal=True)
    key = {m: cache_key(card, DashboardContext.build(m.tenant, m))
           for m in (owner, manager, staff, collaborator, other_manager)}
    assert key[owner] == key[manager] == key[staff]  # all of them see every customer
    assert key[collaborator] != key[owner]
    assert key[other_manager] != key[manager]
    staff.tenant.staff_see_own_customers_only = True
    assert cache_key(card, DashboardContext.build(staff.tenant, staff)) != key[owner]
    assert cache_key(mine, DashboardContext.build(owner.tenant, owner)) != \
        cache_key(mine, DashboardContext.build(manager.tenant, manager))
    march = DashboardContext.build(owner.tenant, owner,
                                   now=datetime.datetime(2026, 3, 31, 23, 59, tzinfo=VN))
    april = DashboardContext.build(owner.tenant, owner,
                                   now=datetime.datetime(2026, 4, 1, 0, 1, tzinfo=VN))
    assert cache_key(card, march) != cache_key(card, april)
    with translation.override("en"):
        assert cache_key(card, march) == cache_key(card, march, "en") != \
            cache_key(card, march, "vi")


def test_cached_figures_hold_text_in_the_members_language(login, owner):
    from crm import dashboard

    CustomerFactory(tenant=owner.tenant)
    ctx = DashboardContext.build(owner.tenant, owner)
    funnel = next(c for c in registry.dashboard_cards if c.key == "customers.funnel")
    for language, label in (("vi", "Mới"), ("en", "New")):
        with translation.override(language):
            data = dashboard.figures([funnel], ctx)["customers.funnel"]["data"]
        assert data["items"][0]["label"] == label and type(data["items"][0]["label"]) is str
    dashboard.forget([funnel], ctx)  # "Làm mới" forgets every language's entry
    assert cache.get(cache_key(funnel, ctx, "en")) is None
    assert cache.get(cache_key(funnel, ctx, "vi")) is None


def test_registering_a_card_again_replaces_it():
    before = list(registry.dashboard_cards)
    try:
        registry.register_dashboard_card(registry.DashboardCard("test.card", 999, lambda c: {}))
        registry.register_dashboard_card(registry.DashboardCard("test.card", 998, lambda c: {}))
        assert [c.order for c in registry.dashboard_cards if c.key == "test.card"] == [998]
    finally:
        registry.dashboard_cards[:] = before


def kpi_value(html: str, key: str) -> str:
    start = html.index(f'data-testid="kpi-{key}"')
    value = html.index('data-testid="kpi-value">', start) + len('data-testid="kpi-value">')
    return html[value:html.index("<", value)]


def test_figures_are_cached_until_refresh(login, owner):
    CustomerFactory.create_batch(2, tenant=owner.tenant)
    client = login(owner)
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "2"
    CustomerFactory(tenant=owner.tenant)
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "2"
    response = client.post("/admin/")
    assert response.status_code == 302 and response.url == "/admin/"
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "3"


def test_refresh_forgets_only_the_members_own_scope(login, client, owner, collaborator):
    CustomerFactory(tenant=owner.tenant, collaborator=collaborator)
    login(owner).get("/admin/")
    login(collaborator).get("/admin/")
    CustomerFactory(tenant=owner.tenant, collaborator=collaborator)
    client.post("/admin/")  # the collaborator's refresh
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "2"
    client.force_login(owner.user)
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "1"


def test_cards_follow_the_access_table(login, client, owner, manager, staff, collaborator):
    def shown(member):
        client.force_login(member.user)
        html = client.get("/admin/").content.decode()
        return {key for key in ("customers.new", "orders.revenue", "orders.placed",
                                "orders.buyers", "customers.vip", "orders.debt",
                                "customers.pending") if f'data-testid="kpi-{key}"' in html}

    everything = {"customers.new", "orders.revenue", "orders.placed", "orders.buyers",
                  "customers.vip", "orders.debt", "customers.pending"}
    assert shown(owner) == shown(manager) == everything
    assert shown(staff) == everything - {"customers.pending"}
    assert shown(collaborator) == {"customers.new", "orders.buyers", "customers.vip"}


def test_charts_carry_their_data_as_json_not_script(login, owner):
    CustomerFactory(tenant=owner.tenant)
    html = login(owner).get("/admin/").content.decode()
    assert 'id="dashboard-data-customers.funnel" type="application/json"' in html
    assert 'data-chart="funnel"' in html and "js/dashboard.js" in html
    assert "<script>" not in html


def test_query_counts_cold_and_warm(login, owner, django_assert_max_num_queries):
    CustomerFactory.create_batch(3, tenant=owner.tenant, assigned_staff=owner)
    client = login(owner)
    # Cold: one or two aggregates per card (11 cards, 12 queries here), plus session, user
    # and membership, and the session's save after the login.
    with django_assert_max_num_queries(18):
        assert client.get("/admin/").status_code == 200
    # Warm: the figures come from the cache in one round trip, no query of their own.
    with django_assert_max_num_queries(3):
        assert client.get("/admin/").status_code == 200


def test_a_member_of_two_shops_sees_the_active_shops_figures(login, manager, other_tenant):
    CustomerFactory.create_batch(2, tenant=manager.tenant)
    CustomerFactory.create_batch(5, tenant=other_tenant)
    MembershipFactory(user=manager.user, tenant=other_tenant)
    client = login(manager)
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "2"
    client.post("/admin/switch-shop/", {"tenant": other_tenant.pk})
    assert kpi_value(client.get("/admin/").content.decode(), "customers.new") == "5"


def test_stale_figures_are_recomputed_by_one_request_and_shown_to_the_others(owner):
    from django.utils import timezone

    from crm import dashboard

    runs = []
    card = registry.DashboardCard("test.count", 1, lambda ctx: runs.append(1) or {"n": len(runs)})
    ctx = DashboardContext.build(owner.tenant, owner)
    assert dashboard.figures([card], ctx)["test.count"]["data"] == {"n": 1}
    assert dashboard.figures([card], ctx)["test.count"]["data"] == {"n": 1}  # fresh: cached
    key = cache_key(card, ctx)
    old = timezone.now() - datetime.timedelta(seconds=dashboard.CACHE_SECONDS + 1)
    cache.set(key, {"data": {"n": 1}, "at": old}, dashboard.STALE_SECONDS)
    cache.add(f"{key}:lock", 1, dashboard.LOCK_SECONDS)  # another request is recomputing
    shown = dashboard.figures([card], ctx)["test.count"]
    assert shown == {"data": {"n": 1}, "at": old} and len(runs) == 1
    cache.delete(f"{key}:lock")
    assert dashboard.figures([card], ctx)["test.count"]["data"] == {"n": 2}
    assert cache.get(f"{key}:lock") is None
    dashboard.forget([card], ctx)
    assert dashboard.figures([card], ctx)["test.count"]["data"] == {"n": 3}


def test_a_card_with_nothing_to_show_is_left_out(owner):
    from crm import dashboard

    card = registry.DashboardCard("test.none", 1, lambda ctx: None)
    assert dashboard.figures([card], DashboardContext.build(owner.tenant, owner)) == {}
