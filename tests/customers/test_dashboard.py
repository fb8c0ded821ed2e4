"""The customers app's dashboard cards: figures on a small shop, Vietnam-time month
boundaries, collaborators' own figures, another shop never counted, and links that open a
list showing the same number."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext as _

from crm.dashboard import DashboardContext
from customers import dashboard
from customers.models import Customer, CustomerNote, RegistrationRequest
from tests.customers.factories import CustomerFactory, SourceFactory
from tests.customers.pages import result_count

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.datetime(2026, 3, 15, 10, tzinfo=VN)



def created(customer, at):
    Customer.objects.filter(pk=customer.pk).update(created_at=at)
    return customer


def ctx(member, now=NOW):
    return DashboardContext.build(member.tenant, member, now=now)


def listed_count(client, url) -> int:
    return result_count(client, url)


def test_new_customers_this_month_against_the_same_days_of_last_month(owner, other_tenant):
    t = owner.tenant
    # 1 March 00:30 in Vietnam is still 28 February in UTC: it counts for March.
    created(CustomerFactory(tenant=t), datetime.datetime(2026, 3, 1, 0, 30, tzinfo=VN))
    created(CustomerFactory(tenant=t), datetime.datetime(2026, 3, 15, 9, tzinfo=VN))
    created(CustomerFactory(tenant=t), datetime.datetime(2026, 2, 28, 23, 30, tzinfo=VN))
    created(CustomerFactory(tenant=t), datetime.datetime(2026, 2, 15, 9, tzinfo=VN))
    created(CustomerFactory(tenant=t), datetime.datetime(2026, 2, 1, 0, 0, tzinfo=VN))
    created(CustomerFactory(tenant=t), datetime.datetime(2026, 1, 31, 23, 59, tzinfo=VN))
    created(CustomerFactory(tenant=other_tenant), datetime.datetime(2026, 3, 2, tzinfo=VN))
    data = dashboard.new_customers(ctx(owner))
    # Last month up to 15 February 10:00: the 1st and the 15th at 09:00, not the 28th.
    assert (data["value"], data["compare"]["previous"]) == (2, 2)
    assert data["compare"]["pct"] == 0 and not data["compare"]["up"]
    assert data["url"] == "/admin/customers/?created_from=01%2F03%2F2026"


def test_collaborator_counts_only_their_customers(owner, collaborator):
    t = owner.tenant
    mine = CustomerFactory(tenant=t, collaborator=collaborator, lifecycle_stage="vip")
    created(mine, datetime.datetime(2026, 3, 5, tzinfo=VN))
    created(CustomerFactory(tenant=t, lifecycle_stage="vip"),
            datetime.datetime(2026, 3, 5, tzinfo=VN))
    assert dashboard.new_customers(ctx(collaborator))["value"] == 1
    assert dashboard.new_customers(ctx(owner))["value"] == 2
    assert dashboard.vip_customers(ctx(collaborator))["value"] == 1
    assert dashboard.vip_customers(ctx(owner))["value"] == 2
    funnel = dashboard.lifecycle_funnel(ctx(collaborator))
    assert funnel["total"] == 1 and [i["value"] for i in funnel["items"]] == [0, 0, 0, 1]


def test_own_customers_only_staff_see_their_figures(owner, staff):
    staff.tenant.staff_see_own_customers_only = True
    staff.tenant.save()
    CustomerFactory(tenant=owner.tenant, assigned_staff=staff)
    CustomerFactory.create_batch(2, tenant=owner.tenant)
    assert dashboard.lifecycle_funnel(ctx(staff))["total"] == 1
    assert dashboard.lifecycle_funnel(ctx(owner))["total"] == 3


def test_funnel_in_stage_order_with_shares(owner, other_tenant):
    for stage, n in (("new", 2), ("potential", 1), ("purchased", 4), ("vip", 1)):
        CustomerFactory.create_batch(n, tenant=owner.tenant, lifecycle_stage=stage)
    CustomerFactory.create_batch(3, tenant=other_tenant, lifecycle_stage="vip")
    funnel = dashboard.lifecycle_funnel(ctx(owner))
    assert [(str(i["label"]), i["value"], i["share"]) for i in funnel["items"]] == [
        ("Mới", 2, 25), ("Tiềm năng", 1, 12), ("Đã mua hàng", 4, 50), ("VIP", 1, 12)]
    assert funnel["items"][3]["url"] == "/admin/customers/?lifecycle_stage=vip"


def test_new_customers_by_channel_group(owner, other_tenant):
    t = owner.tenant
    ads = SourceFactory(tenant=t, name="Quảng cáo")
    facebook = SourceFactory(tenant=t, name="Facebook", parent=ads)
    google = SourceFactory(tenant=t, name="Google", parent=ads)
    walk_in = SourceFactory(tenant=t, name="Khách vãng lai")
    march = datetime.datetime(2026, 3, 3, tzinfo=VN)
    for source in (facebook, google, ads, walk_in, None, None, google):
        created(CustomerFactory(tenant=t, source=source), march)
    created(CustomerFactory(tenant=t, source=facebook), datetime.datetime(2026, 2, 27,
                                                                         tzinfo=VN))
    CustomerFactory(tenant=other_tenant)
    data = dashboard.new_customers_by_source(ctx(owner))
    assert data["total"] == 7
    assert [(str(i["label"]), i["value"], i["share"]) for i in data["items"]] == [
        ("Quảng cáo", 4, 57), (str(_("Unknown source")), 2, 29), ("Khách vãng lai", 1, 14)]
    assert data["items"][1]["url"] == ""  # no filter for "no source": not a link
    assert data["items"][0]["url"] == \
        f"/admin/customers/?created_from=01%2F03%2F2026&source={ads.pk}"


def test_pending_approvals_count_members_and_registrations(owner, collaborator, other_tenant):
    t = owner.tenant
    CustomerFactory.create_batch(2, tenant=t, membership_state="pending")
    theirs = CustomerFactory(tenant=t, membership_state="active", collaborator=collaborator)
    RegistrationRequest.objects.create(tenant=t, customer=theirs, full_name="A", phone="1")
    CustomerFactory(tenant=other_tenant, membership_state="pending")
    data = dashboard.pending_approvals(ctx(owner))
    assert data["value"] == 3 and data["url"] == "/admin/customers/pending/"
    assert re.findall(r"\d+", str(data["note"])) == ["2", "1"]
    assert dashboard.pending_approvals(ctx(collaborator))["value"] == 1


def note(customer, at):
    row = CustomerNote.objects.create(tenant=customer.tenant, customer=customer, body="Gọi")
    CustomerNote.objects.filter(pk=row.pk).update(created_at=at)


def test_my_customers_not_contacted_for_30_days(owner, staff, collaborator):
    t = owner.tenant
    never = created(CustomerFactory(tenant=t, assigned_staff=staff),
                    datetime.datetime(2026, 1, 1, tzinfo=VN))
    silent = CustomerFactory(tenant=t, assigned_staff=staff)
    note(silent, NOW - datetime.timedelta(days=40))
    recent = CustomerFactory(tenant=t, assigned_staff=staff)
    note(recent, NOW - datetime.timedelta(days=40))
    note(recent, NOW - datetime.timedelta(days=10))
    CustomerFactory(tenant=t, assigned_staff=owner)  # someone else's
    data = dashboard.not_contacted(ctx(staff))
    assert [r["code"] for r in data["rows"]] == [never.code, silent.code]
    assert data["rows"][0]["last_contact"] is None
    assert data["rows"][1]["last_contact"].date() == (NOW - datetime.timedelta(days=40)).date()
    assert (data["count"], data["more"], data["has_customers"]) == (2, False, True)
    assert data["url"] == (f"/admin/customers/?assigned_staff={staff.pk}"
                           "&noted_within=30&noted_mode=without")
    empty = dashboard.not_contacted(ctx(collaborator))
    assert (empty["rows"], empty["has_customers"]) == ([], False)
    assert "collaborator=" in empty["url"]


def test_not_contacted_shows_ten_and_counts_the_rest(owner):
    CustomerFactory.create_batch(12, tenant=owner.tenant, assigned_staff=owner)
    data = dashboard.not_contacted(ctx(owner))
    assert len(data["rows"]) == 10 and (data["count"], data["more"]) == (12, False)


def test_links_open_lists_with_the_same_count(login, owner, collaborator, other_tenant):
    t = owner.tenant
    CustomerFactory.create_batch(3, tenant=t, lifecycle_stage="vip")
    CustomerFactory.create_batch(2, tenant=t, collaborator=collaborator, assigned_staff=owner)
    old = CustomerFactory(tenant=t, assigned_staff=owner)
    created(old, datetime.datetime(2025, 1, 1, tzinfo=VN))
    note(old, datetime.datetime(2025, 1, 2, tzinfo=VN))
    CustomerFactory.create_batch(4, tenant=other_tenant, lifecycle_stage="vip")
    client = login(owner)
    now = DashboardContext.build(t, owner)
    for card in (dashboard.new_customers, dashboard.vip_customers, dashboard.not_contacted):
        data = card(now)
        expected = data.get("value", data.get("count"))
        assert listed_count(client, data["url"]) == expected, card.__name__
    client = login(collaborator)
    data = dashboard.not_contacted(DashboardContext.build(t, collaborator))
    assert data["count"] == 2 and listed_count(client, data["url"]) == 2


def test_not_contacted_card_on_the_page(login, staff):
    c = CustomerFactory(tenant=staff.tenant, assigned_staff=staff, full_name="Lê Thị Hoa",
                        phone="0912345678")
    html = login(staff).get("/admin/").content.decode()
    assert 'data-testid="not-contacted"' in html and "Lê Thị Hoa" in html
    assert f'href="/admin/customers/{c.code}/"' in html and 'href="tel:+84912345678"' in html
