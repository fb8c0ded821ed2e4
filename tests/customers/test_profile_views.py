import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm.access import SYSTEM
from crm.models import AuditLog
from customers import services
from customers.models import Customer, CustomerTag
from tests.customers.factories import TagFactory

pytestmark = pytest.mark.django_db

TABS = ["", "info/", "activity/", "history/"]
OTHER_APP_TABS = ["/admin/orders/customer/{code}/orders/", "/admin/orders/customer/{code}/debt/",
                  "/admin/customers/{code}/groups/", "/admin/loyalty/customer/{code}/"]


def make(tenant, name="Nguyễn Văn An", phone="0912000001", **data):
    return services.customer_create(tenant=tenant, actor=SYSTEM,
                                    data={"full_name": name, "phone": phone, **data})


def count_queries(client, url, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def enrich(customer, manager, n):
    """Give the customer n tags, n notes, n audit rows and n extra phones."""
    tenant = customer.tenant
    for i in range(n):
        CustomerTag.objects.create(tenant=tenant, customer=customer, tag=TagFactory(tenant=tenant))
        services.note_add(tenant=tenant, actor=manager, customer=customer, body=f"n{i}")
        AuditLog.objects.create(tenant=tenant, actor=manager.user, action="customer.update",
                                object_type="customers.customer", object_id=customer.pk,
                                before={"note": ""}, after={"note": f"v{i}"})


@pytest.mark.parametrize("tab", TABS)
def test_profile_tabs_have_fixed_query_counts(login, manager, tenant, lists, tab):
    small, big = make(tenant), make(tenant, name="Lê B", phone="0912000002")
    enrich(big, manager, 8)
    client = login(manager)
    client.get("/admin/")
    full = [count_queries(client, f"/admin/customers/{c.code}/{tab}") for c in (small, big)]
    fragment = [count_queries(client, f"/admin/customers/{c.code}/{tab}", HTTP_HX_REQUEST="true")
                for c in (small, big)]
    assert full[0] == full[1]
    assert fragment[0] == fragment[1]
    assert fragment[0] < full[0]


def test_profile_page_query_count_is_pinned(login, manager, tenant, lists):
    c = make(tenant)
    enrich(c, manager, 3)
    client = login(manager)
    client.get("/admin/")
    # 11: session, user, membership, the customer, its tags, phones, emails, whether the
    # shop runs a loyalty program (asked once for the tab and the card), care statuses,
    # and the staff / collaborator boxes.
    assert count_queries(client, f"/admin/customers/{c.code}/") == 11


@pytest.mark.parametrize("url", OTHER_APP_TABS)
def test_tabs_of_later_apps_show_an_empty_state(login, manager, tenant, url):
    c = make(tenant)
    body = login(manager).get(url.format(code=c.code), HTTP_HX_REQUEST="true").content.decode()
    assert 'class="empty' in body


def test_profile_shows_totals_block_in_vnd(login, manager, tenant):
    c = make(tenant)
    body = login(manager).get(f"/admin/customers/{c.code}/").content.decode()
    assert "Tổng chi tiêu" in body and "0 ₫" in body


def test_manager_changes_care_status_in_place(login, manager, tenant, lists):
    c = make(tenant)
    status = lists["care_statuses"].get(name="Chốt đơn")
    response = login(manager).post(f"/admin/customers/{c.code}/care-status/",
                                   {"status": status.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Chốt đơn" in response.content.decode()
    assert 'data-testid="overview"' in response.content.decode()
    c.refresh_from_db()
    assert c.care_status == status
    assert AuditLog.objects.filter(action="customer.care_status").count() == 1


def test_staff_care_status_follows_shop_setting(login, staff, tenant, lists):
    c = make(tenant)
    status = lists["care_statuses"].first()
    client = login(staff)
    assert client.post(f"/admin/customers/{c.code}/care-status/",
                       {"status": status.pk}).status_code == 302
    tenant.only_managers_change_care_status = True
    tenant.save()
    assert client.post(f"/admin/customers/{c.code}/care-status/",
                       {"status": status.pk}).status_code == 403
    assert 'data-testid="care-status"' in client.get(f"/admin/customers/{c.code}/").content \
        .decode()


def test_care_status_of_other_shop_is_404(login, manager, tenant, other_tenant):
    from tests.customers.factories import CareStatusFactory

    c = make(tenant)
    foreign = CareStatusFactory(tenant=other_tenant)
    assert login(manager).post(f"/admin/customers/{c.code}/care-status/",
                               {"status": foreign.pk}).status_code == 404


def test_only_managers_assign_staff(login, manager, staff, collaborator, tenant):
    c = make(tenant)
    assert login(staff).post(f"/admin/customers/{c.code}/assign/", {}).status_code == 403
    login(manager).post(f"/admin/customers/{c.code}/assign/", {
        "assigned_staff": staff.pk, "collaborator": collaborator.pk})
    c.refresh_from_db()
    assert (c.assigned_staff, c.collaborator) == (staff, collaborator)


def test_collaborator_opens_only_own_customers_on_every_tab(login, collaborator, tenant):
    mine = make(tenant, collaborator=collaborator)
    other = make(tenant, name="Khác", phone="0912000002")
    client = login(collaborator)
    for tab in TABS:
        assert client.get(f"/admin/customers/{mine.code}/{tab}").status_code == 200
        assert client.get(f"/admin/customers/{other.code}/{tab}").status_code == 404
    for url in OTHER_APP_TABS:
        # The orders and groups tabs need order.view / group.view (staff and up): refused
        # before any lookup.
        expected = 403 if url.startswith("/admin/orders/") or url.endswith("/groups/") \
            else 404
        assert client.get(url.format(code=other.code)).status_code == expected


def test_merged_code_redirects_to_survivor(login, manager, tenant):
    a, b = make(tenant), make(tenant, phone="0912000002")
    services.customers_merge(tenant=tenant, actor=manager, survivor=a, merged=b)
    client = login(manager)
    response = client.get(f"/admin/customers/{b.code}/history/")
    assert response.status_code == 302
    assert response.url == f"/admin/customers/{a.code}/history/"


def test_edit_page_saves_through_the_service(login, manager, tenant, lists):
    c = make(tenant, extra_phones=["0987000001"])
    client = login(manager)
    page = client.get(f"/admin/customers/{c.code}/edit/").content.decode()
    assert 'value="0987000001"' in page and "Tính chất mua" in page
    tag = lists["tags"].get(name="Sỉ")
    response = client.post(f"/admin/customers/{c.code}/edit/", {
        "full_name": "Nguyễn Văn Anh", "phone": "0912000001",
        "extra_phones": ["0987000001", "0903 222 333"], "country": "VN",
        "lifecycle_stage": "potential", "birthday": "29/02",
        f"tags_{tag.group_id}": [tag.pk],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    c.refresh_from_db()
    assert c.full_name == "Nguyễn Văn Anh" and c.lifecycle_stage == "potential"
    assert (c.birth_day, c.birth_month) == (29, 2)
    assert c.phones.count() == 3 and list(c.tags.all()) == [tag]


def test_pending_list_bulk_approve(login, manager, tenant):
    p1 = make(tenant, membership_state="pending")
    p2 = make(tenant, phone="0912000002", membership_state="pending")
    client = login(manager)
    assert p1.code in client.get("/admin/customers/pending/").content.decode()
    client.post("/admin/customers/pending/", {"action": "approve", "codes": [p1.code, p2.code]})
    assert set(Customer.objects.values_list("membership_state", flat=True)) == {"active"}


def test_merge_view(login, manager, tenant):
    a = make(tenant, name="Trần Mai", phone="0912000001", birth_day=1, birth_month=1)
    b = make(tenant, name="Trần Mai", phone="0912000002", birth_day=1, birth_month=1,
             company="Cty B")
    client = login(manager)
    assert b.code in client.get("/admin/customers/duplicates/").content.decode()
    page = client.get(f"/admin/customers/merge/?a={a.code}&b={b.code}").content.decode()
    assert "Cty B" in page
    response = client.post(f"/admin/customers/merge/?a={a.code}&b={b.code}",
                           {"survivor": b.code, "pick_full_name": "a"})
    assert response.url == f"/admin/customers/{b.code}/"
    assert Customer.objects.get().company == "Cty B"


# --- the public registration page -----------------------------------------------------------

REG = "/r/shop-a/"


@pytest.fixture
def client():
    """A visitor from an address of its own, so rate limits of other tests do not count."""
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}."
                              f"{uuid.uuid4().int % 250}")


def register(client, **data):
    payload = {"full_name": "Võ Thị Hồng", "phone": "0912 555 666", "email": "", "birthday": "",
               "website": ""}
    payload.update(data)
    return client.post(REG, payload)


def test_registration_creates_pending_customer(client, tenant, lists):
    assert "Đăng ký thành viên" in client.get(REG).content.decode()
    response = register(client, birthday="08/03/1995")
    assert "Cảm ơn bạn đã đăng ký" in response.content.decode()
    c = Customer.objects.get()
    assert c.membership_state == "pending" and (c.birth_day, c.birth_year) == (8, 1995)


def test_registration_duplicate_phone_waits_as_a_request(client, tenant):
    existing = make(tenant, phone="0912555666")
    register(client, phone="+84 912 555 666")
    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert existing.membership_state == "guest"
    assert existing.registration_requests.get().state == "open"


def test_registration_bad_phone_has_message(client, tenant):
    response = register(client, phone="12345")
    assert "không phải số điện thoại hợp lệ" in response.content.decode()
    assert not Customer.objects.exists()


def test_registration_honeypot_creates_nothing(client, tenant):
    response = register(client, website="http://spam.example")
    assert "Cảm ơn bạn đã đăng ký" in response.content.decode()
    assert not Customer.objects.exists()


def test_registration_requires_csrf(tenant):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.250.250.250")
    assert register(client).status_code == 403
    assert not Customer.objects.exists()


def test_registration_is_rate_limited(client, tenant):
    for i in range(10):
        register(client, phone=f"09125550{i:02d}")
    response = register(client, phone="0912555099")
    assert response.status_code == 429
    assert Customer.objects.count() == 10


def test_registration_unknown_or_inactive_shop_is_404(client, tenant):
    assert client.get("/r/no-such-shop/").status_code == 404
    tenant.is_active = False
    tenant.save()
    assert client.get(REG).status_code == 404


def test_public_form_never_changes_an_existing_customer(client, tenant, lists, manager,
                                                        staff):
    """Defect: a known phone with a new email once became the primary email, filled the
    birthday and moved the membership. Now the values wait in "Chờ duyệt" and the manager
    picks what to apply."""
    existing = make(tenant, name="Võ Thị Hồng", phone="0912555666", email="cu@example.com")
    register(client, phone="0912.555.666", email="moi@example.com", birthday="08/03/1995",
             full_name="Hồng Võ")
    existing.refresh_from_db()
    assert (existing.email, existing.birth_day, existing.membership_state) == (
        "cu@example.com", None, "guest")
    assert list(existing.emails.values_list("email", flat=True)) == ["cu@example.com"]
    request = existing.registration_requests.get()

    staff_client = Client()
    staff_client.force_login(staff.user)
    assert staff_client.get("/admin/customers/pending/").status_code == 403
    url = f"/admin/customers/pending/requests/{request.pk}/"
    assert staff_client.post(url, {"decision": "approve", "apply": ["email"]}).status_code == 403

    manager_client = Client()
    manager_client.force_login(manager.user)
    page = manager_client.get("/admin/customers/pending/").content.decode()
    assert "moi@example.com" in page and "cu@example.com" in page and "08/03/1995" in page
    response = manager_client.post(url, {"decision": "approve", "apply": ["birthday"]})
    assert response.status_code == 302
    existing.refresh_from_db()
    assert (existing.birth_day, existing.birth_month, existing.birth_year) == (8, 3, 1995)
    assert existing.full_name == "Võ Thị Hồng" and existing.email == "cu@example.com"
    assert existing.membership_state == "active"
    request.refresh_from_db()
    assert request.state == "applied" and request.decided_by == manager.user
    # Handled once: a second post is a 404 (no longer waiting).
    assert manager_client.post(url, {"decision": "approve"}).status_code == 404


def test_dismissed_registration_changes_nothing(client, tenant, lists, manager):
    existing = make(tenant, phone="0912555666")
    register(client, phone="0912555666", email="moi@example.com")
    request = existing.registration_requests.get()
    manager_client = Client()
    manager_client.force_login(manager.user)
    manager_client.post(f"/admin/customers/pending/requests/{request.pk}/",
                        {"decision": "dismiss", "apply": ["email"]})
    existing.refresh_from_db()
    assert existing.membership_state == "guest" and existing.email == ""
    request.refresh_from_db()
    assert request.state == "dismissed"
