import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access import SYSTEM
from crm.models import AuditLog
from customers import services
from customers.models import Customer, CustomerTag
from tests.customers.factories import CustomerFactory, TagFactory
from tests.customers.pages import result_count_text

pytestmark = pytest.mark.django_db

LIST = "/admin/customers/"


def list_queries(client, n_customers, tenant, lists, **params):
    tags = list(lists["tags"][:3])
    for c in CustomerFactory.create_batch(n_customers, tenant=tenant,
                                          care_status=lists["care_statuses"].first(),
                                          source=lists["sources"].get(code="shopee")):
        for t in tags:
            CustomerTag.objects.create(tenant=tenant, customer=c, tag=t)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(login, manager, tenant, lists):
    client = login(manager)
    client.get(LIST)  # warm the session
    few = list_queries(client, 2, tenant, lists)
    many = list_queries(client, 40, tenant, lists)
    # 10: the page's ids are picked by the filtered query alone, then its rows are read
    # with their joins (crm.pagination.keyset_paginate's load); the count of matches and
    # the filter panel's choice lists are read by their own requests (see below). 2 of them
    # are the saved filter chips above the list (groups): the shop's channels and the
    # saved filters the member sees.
    assert few == many == 12
    status = lists["care_statuses"].first().pk  # every customer made here has it
    assert list_queries(client, 2, tenant, lists, care_status=status) == \
        list_queries(client, 40, tenant, lists, care_status=status) == 13  # + the choice check


def test_count_comes_by_its_own_request_with_the_same_filters(login, manager, tenant, lists):
    client = login(manager)
    status = lists["care_statuses"].first()
    CustomerFactory.create_batch(3, tenant=tenant, care_status=status)
    CustomerFactory.create_batch(2, tenant=tenant)
    page = client.get(LIST, {"care_status": status.pk}).content.decode()
    assert 'data-testid="result-count"' not in page and "_panel=count" in page
    assert result_count_text(client, LIST, {"care_status": status.pk}) == "3 khách hàng"
    assert result_count_text(client, LIST) == "5 khách hàng"
    # The panel answers htmx only: a plain request with the parameter is the whole page.
    whole = client.get(LIST, {"_panel": "count"}).content.decode()
    assert "<html" in whole


def test_filter_panel_is_fetched_when_opened(login, manager, tenant, lists):
    client = login(manager)
    page = client.get(LIST).content.decode()
    assert 'name="birth_month"' not in page and "_panel=filters" in page
    panel = client.get(LIST, {"_panel": "filters", "q": "lan"}, HTTP_HX_REQUEST="true")
    body = panel.content.decode()
    assert 'name="birth_month"' in body and "<html" not in body
    # A filter in use opens the panel with the page and fetches its fields at once.
    page = client.get(LIST, {"care_status": lists["care_statuses"].first().pk}).content.decode()
    assert 'name="birth_month"' not in page and 'hx-trigger="load"' in page
    assert 'class="collapse show" id="filters"' in page


def test_list_shows_customers_with_formatted_phone(login, manager, tenant):
    c = services.customer_create(tenant=tenant, actor=SYSTEM,
                                 data={"full_name": "Nguyễn Văn Đức", "phone": "0912345678"})
    client = login(manager)
    body = client.get(LIST).content.decode()
    assert c.code in body and "Nguyễn Văn Đức" in body and "0912 345 678" in body
    assert result_count_text(client, LIST) == "1 khách hàng"


def test_htmx_search_returns_only_the_table(login, manager, tenant):
    CustomerFactory(tenant=tenant, full_name="Trần Thị Thu Hà")
    CustomerFactory(tenant=tenant, full_name="Lê Văn Nam")
    response = login(manager).get(LIST, {"q": "thu ha"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="customer-table">')
    assert "Trần Thị Thu Hà" in body and "Lê Văn Nam" not in body


def test_collaborator_sees_only_assigned_customers(login, collaborator, tenant):
    mine = CustomerFactory(tenant=tenant, full_name="Khách của CTV", collaborator=collaborator)
    other = CustomerFactory(tenant=tenant, full_name="Khách khác")
    client = login(collaborator)
    body = client.get(LIST).content.decode()
    assert mine.full_name in body and other.full_name not in body
    assert client.get(f"{LIST}{other.code}/").status_code == 404
    assert client.get(f"{LIST}{mine.code}/").status_code == 200


def test_other_shops_customers_never_listed(login, manager, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant, full_name="Khách shop B")
    client = login(manager)
    body = client.get(LIST, {"q": theirs.phone}).content.decode()
    assert "Khách shop B" not in body
    assert result_count_text(client, LIST, {"q": theirs.phone}) == "0 khách hàng"
    assert client.get(f"{LIST}{theirs.code}/").status_code == 404


def test_column_chooser_persists_per_user(login, manager, staff):
    client = login(manager)
    client.post(f"{LIST}columns/", {"columns": ["phone", "code", "email"]})
    body = client.get(LIST).content.decode()
    header = body[body.index("<thead>"):body.index("</thead>")]
    assert header.index("Điện thoại") < header.index("Mã") < header.index("Email")
    assert "Trạng thái chăm sóc" not in header
    other = login(staff).get(LIST).content.decode()
    assert "Trạng thái chăm sóc" in other[other.index("<thead>"):other.index("</thead>")]


def test_bulk_set_care_status_from_list(login, manager, tenant, lists):
    c1, c2 = CustomerFactory.create_batch(2, tenant=tenant)
    status = lists["care_statuses"].last()
    response = login(manager).post(f"{LIST}bulk/", {
        "action": "set_care_status", "codes": [c1.code, c2.code], "care_status": status.pk,
    }, follow=True)
    assert "Đã cập nhật 2 trên 2 khách hàng được chọn." in response.content.decode()
    assert Customer.objects.filter(care_status=status).count() == 2
    assert AuditLog.objects.filter(action="customer.care_status").count() == 2


def test_bulk_without_selection_has_message(login, manager):
    response = login(manager).post(f"{LIST}bulk/", {"action": "add_tag"}, follow=True)
    assert "Chọn ít nhất một khách hàng." in response.content.decode()


def test_bulk_cannot_touch_other_shop_customers(login, manager, other_tenant, tenant):
    theirs = CustomerFactory(tenant=other_tenant, number=1, code="KH000001")
    mine = CustomerFactory(tenant=tenant, number=1, code="KH000001")
    tag = TagFactory(tenant=tenant)
    login(manager).post(f"{LIST}bulk/", {"action": "add_tag", "codes": ["KH000001"],
                                         "tag": tag.pk})
    assert list(CustomerTag.objects.values_list("customer_id", flat=True)) == [mine.pk]
    assert not theirs.tags.exists()


def test_collaborator_cannot_bulk(login, collaborator):
    assert login(collaborator).post(f"{LIST}bulk/", {}).status_code == 403


def test_create_customer_with_ddmm_birthday(login, manager, tenant, lists):
    response = login(manager).post(f"{LIST}new/", {
        "full_name": "Phạm Thị Lan", "phone": "0912 345 678", "birthday": "15/08",
        "country": "VN", "lifecycle_stage": "new", "membership_state": "guest",
        "province_code": "1", "ward_code": "4", "tags": [lists["tags"].first().pk],
    })
    assert response.status_code == 302
    c = Customer.objects.get()
    assert response.url == f"{LIST}{c.code}/"
    assert (c.birth_day, c.birth_month, c.birth_year) == (15, 8, None)
    assert c.birthday_display == "15/08" and c.ward_name == "Phường Ba Đình"


def test_create_duplicate_phone_names_and_links_the_owner(login, manager, tenant):
    owner = services.customer_create(tenant=tenant, actor=SYSTEM,
                                     data={"full_name": "Chủ số", "phone": "0912345678"})
    response = login(manager).post(f"{LIST}new/", {
        "full_name": "Người khác", "phone": "+84 912 345 678", "country": "VN",
        "lifecycle_stage": "new", "membership_state": "guest",
    })
    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="/admin/customers/{owner.code}/"' in body
    assert "đã thuộc khách hàng" in body
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("phone", "12345", "không phải số điện thoại hợp lệ"),
    ("birthday", "31/02/1990", "không phải ngày có thật"),
    ("birthday", "1990-08-15", "dd/mm/yyyy"),
    ("tax_code", "123", "10 hoặc 13 chữ số"),
    ("national_id", "1234", "CMND có 9 chữ số"),
    ("referrer", "KH999999", "Không có khách hàng nào"),
])
def test_create_bad_input_has_clear_message(login, manager, field, value, message):
    data = {"full_name": "A", "phone": "0912345678", "country": "VN", "lifecycle_stage": "new",
            "membership_state": "guest", field: value}
    response = login(manager).post(f"{LIST}new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Customer.objects.count() == 0


def test_create_needs_phone_or_email(login, manager):
    response = login(manager).post(f"{LIST}new/", {"full_name": "A", "country": "VN",
                                                   "lifecycle_stage": "new",
                                                   "membership_state": "guest"})
    assert "Nhập số điện thoại hoặc email." in response.content.decode()


def test_ward_options_follow_province(login, staff):
    body = login(staff).get(f"{LIST}wards/", {"province_code": "1"}).content.decode()
    assert "Phường Ba Đình" in body and "Phường Sài Gòn" not in body


def test_settings_lists_for_managers_only(login, manager, staff, lists):
    assert login(staff).get(f"{LIST}settings/carestatus/").status_code == 403
    client = login(manager)
    body = client.get(f"{LIST}settings/source/").content.decode()
    assert "Sàn TMĐT" in body and "Shopee" in body
    response = client.post(f"{LIST}settings/carestatus/new/",
                           {"name": "Hẹn gọi lại", "color": "#123456", "is_active": "on"})
    assert response.status_code == 302
    response = client.post(f"{LIST}settings/carestatus/new/",
                           {"name": "Hẹn gọi lại", "color": "#123456", "is_active": "on"})
    assert response.status_code == 200 and "đã tồn tại" in response.content.decode()


def test_deactivated_status_hidden_from_new_choices(login, manager, lists):
    status = lists["care_statuses"].first()
    client = login(manager)
    client.post(f"{LIST}settings/carestatus/{status.pk}/", {"name": status.name,
                                                            "color": status.color})
    status.refresh_from_db()
    assert status.is_active is False
    form_page = client.get(f"{LIST}new/").content.decode()
    assert f'value="{status.pk}">{status.name}' not in form_page


def picture(fmt: str, size=(8, 8), name=None):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, format=fmt)
    return SimpleUploadedFile(name or f"a.{fmt.lower()}", buffer.getvalue())


@pytest.mark.parametrize(("upload", "message"), [
    (lambda: picture("PNG"), None),
    (lambda: picture("GIF"), "Hãy dùng ảnh JPEG, PNG hoặc WebP."),
    (lambda: picture("BMP", size=(900, 900)), "Ảnh lớn hơn 2 MB."),  # 2.4 MB
    (lambda: SimpleUploadedFile("a.png", b"%PDF-1.4 not a picture"),
     "Hãy tải lên một hình ảnh hợp lệ"),
])
def test_avatar_upload_type_and_size(login, manager, settings, tmp_path, upload, message):
    settings.MEDIA_ROOT = tmp_path
    response = login(manager).post(f"{LIST}new/", {
        "full_name": "A", "phone": "0912345678", "country": "VN", "lifecycle_stage": "new",
        "membership_state": "guest", "avatar": upload()})
    if message is None:
        assert response.status_code == 302
        avatar = Customer.objects.get().avatar
        assert avatar.name.startswith("avatars/") and (tmp_path / avatar.name).exists()
    else:
        assert response.status_code == 200
        assert message in response.content.decode()
        assert Customer.objects.count() == 0


def test_every_sort_pages_forward_and_back(login, manager, tenant):
    """Page 2 and back to page 1, in both directions of every sort the list offers (the
    spend and last-order sorts of the orders app once answered 500 on page 2)."""
    from customers.selectors import list_sorts
    from orders.models import CustomerStats

    for i, customer in enumerate(CustomerFactory.create_batch(30, tenant=tenant)):
        if i % 3:
            CustomerStats.objects.create(tenant=tenant, customer=customer,
                                         total_spend=1000 * (i % 7), delivered_orders=i % 4,
                                         debt=i % 2, last_order_at=timezone.now())
    client = login(manager)
    for sort in list_sorts():
        first = client.get(LIST, {"sort": sort, "size": 25})
        assert first.status_code == 200, sort
        page1 = [c.code for c in first.context["result"].page.rows]
        cursor = first.context["result"].page.next_cursor
        assert cursor, sort
        second = client.get(LIST, {"sort": sort, "size": 25, "after": cursor})
        assert second.status_code == 200, sort
        page2 = [c.code for c in second.context["result"].page.rows]
        assert len(page2) == 5 and not set(page1) & set(page2), sort
        back = client.get(LIST, {"sort": sort, "size": 25,
                                 "before": second.context["result"].page.prev_cursor})
        assert [c.code for c in back.context["result"].page.rows] == page1, sort


def test_avatar_stored_under_a_random_name_and_served_only_to_the_shop(
        login, manager, collaborator, other_manager, settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    login(manager).post(f"{LIST}new/", {
        "full_name": "Lê Thị Hoa", "phone": "0912345678", "country": "VN",
        "lifecycle_stage": "new", "membership_state": "guest",
        "avatar": picture("PNG", name="le-thi-hoa-0912345678.png")})
    customer = Customer.objects.get()
    name = customer.avatar.name
    assert name.startswith(f"avatars/{customer.tenant_id}/") and name.endswith(".png")
    assert "hoa" not in name and "0912345678" not in name
    url = f"{LIST}{customer.code}/avatar/"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert "private" in response["Cache-Control"]
    # The profile links the view, never the media folder.
    page = client.get(f"{LIST}{customer.code}/").content.decode()
    assert url in page and f"/media/{name}" not in page
    assert login(collaborator).get(url).status_code == 404  # not their customer
    assert login(other_manager).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize("back", ["https://evil.example/phish", "//evil.example/x",
                                  "http://testserver.evil.example/"])
def test_next_parameters_never_leave_the_site(login, manager, tenant, back):
    client = login(manager)
    response = client.post(f"{LIST}columns/", {"columns": ["name"], "next": back})
    assert response.status_code == 302 and response.url == LIST
    customer = CustomerFactory(tenant=tenant)
    response = client.post(f"{LIST}bulk/", {"action": "add_tag", "codes": [customer.code],
                                            "tag": TagFactory(tenant=tenant).pk, "next": back})
    assert response.status_code == 302 and response.url == LIST
    # A path of this site is kept.
    response = client.post(f"{LIST}columns/", {"columns": ["name"],
                                               "next": f"{LIST}?sort=name"})
    assert response.url == f"{LIST}?sort=name"


def test_a_cursor_of_another_sort_opens_the_first_page(login, manager, tenant):
    from orders.models import CustomerStats

    for customer in CustomerFactory.create_batch(30, tenant=tenant):
        CustomerStats.objects.create(tenant=tenant, customer=customer, delivered_orders=1)
    client = login(manager)
    cursor = client.get(LIST, {"sort": "orders", "size": 25}).context["result"].page.next_cursor
    response = client.get(LIST, {"sort": "created", "size": 25, "after": cursor})
    assert response.status_code == 200
    assert len(response.context["result"].page.rows) == 25
