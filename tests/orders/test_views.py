import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access import SYSTEM
from crm.models import ApiKey
from customers import services as customer_services
from orders import services
from orders.models import CustomerStats, Order

pytestmark = pytest.mark.django_db


def customer(tenant, phone="0912000001", **data):
    return customer_services.customer_create(
        tenant=tenant, actor=SYSTEM, data={"full_name": "Trần Văn Bình", "phone": phone, **data})


def order(tenant, c=None, total=1_000_000, status="delivered", **data):
    return services.order_create(tenant=tenant, actor=SYSTEM, customer=c,
                                 data={"total_amount": total, "status": status, **data})


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_order_list_fixed_queries_and_search(login, manager, tenant, lists):
    client = login(manager)
    client.get("/admin/")
    c = customer(tenant)
    order(tenant, c)
    few = queries(client, "/admin/orders/")
    for i in range(15):
        order(tenant, customer(tenant, phone=f"09130000{i:02d}"))
    assert queries(client, "/admin/orders/") == few
    body = client.get("/admin/orders/", {"q": "0912 000 001"}).content.decode()
    assert "DH000001" in body and "DH000002" not in body
    body = client.get("/admin/orders/", {"q": "dh2"}).content.decode()
    assert "DH000002" in body and "DH000001" not in body
    body = client.get("/admin/orders/", {"status": ["cancelled"]}).content.decode()
    assert "0 đơn hàng" in body


def test_manual_order_entry(login, staff, tenant, lists):
    c = customer(tenant)
    response = login(staff).post("/admin/orders/new/", {
        "customer": c.code, "status": "delivered", "discount": 0, "shipping_fee": 20000,
        "paid_amount": 100000, "ordered_at": "20/11/2026 09:30",
        "lines-TOTAL_FORMS": 2, "lines-INITIAL_FORMS": 0,
        "lines-0-product_name": "Cà phê", "lines-0-quantity": 2, "lines-0-unit_price": 150000,
        "lines-1-product_name": "Trà", "lines-1-quantity": 1, "lines-1-unit_price": 80000,
    })
    assert response.status_code == 302
    o = Order.objects.get()
    assert o.total_amount == 400_000 and o.customer == c and o.contact_phone == c.phone
    assert o.ordered_at.strftime("%d/%m/%Y") == "20/11/2026"
    assert CustomerStats.objects.get(customer=c).debt == 300_000


def test_manual_order_needs_a_line_and_a_contact(login, staff, lists):
    body = login(staff).post("/admin/orders/new/", {
        "status": "new", "discount": 0, "shipping_fee": 0, "paid_amount": 0,
        # What a browser posts for the untouched first row: its quantity's initial 1.
        "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0, "lines-0-quantity": 1,
    }).content.decode()
    assert "Thêm ít nhất một dòng sản phẩm." in body
    assert "Chọn khách hàng hoặc nhập số điện thoại hay email của người liên hệ." in body
    assert not Order.objects.exists()


def test_status_payment_and_return_from_detail(login, manager, tenant):
    c = customer(tenant)
    o = order(tenant, c, status="shipping", paid_amount=0)
    client = login(manager)
    client.post(f"/admin/orders/{o.code}/status/", {"status": "delivered"})
    client.post(f"/admin/orders/{o.code}/payment/", {"amount": 400000})
    client.post(f"/admin/orders/{o.code}/return/", {"amount": 100000, "reason": "Hỏng"})
    o.refresh_from_db()
    assert (o.status, o.paid_amount, o.returned_amount, o.debt) == ("delivered", 400_000,
                                                                    100_000, 500_000)
    body = client.get(f"/admin/orders/{o.code}/").content.decode()
    assert "500.000 ₫" in body
    response = client.post(f"/admin/orders/{o.code}/payment/", {"amount": 900000}, follow=True)
    assert "nhiều hơn số còn nợ" in response.content.decode()


def test_profile_order_tabs(login, manager, tenant):
    c = customer(tenant, email="binh@x.vn")
    o = order(tenant, c, total=2_000_000, paid_amount=500_000)
    services.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=200_000, reason="Đổi ý")
    other = customer(tenant, phone="0912000002")
    related = order(tenant, other, contact={"email": "binh@x.vn"})
    client = login(manager)
    base = f"/admin/orders/customer/{c.code}"
    assert o.code in client.get(f"{base}/orders/").content.decode()
    assert "Đổi ý" in client.get(f"{base}/returns/").content.decode()
    assert "1.300.000 ₫" in client.get(f"{base}/debt/").content.decode()
    body = client.get(f"{base}/related/").content.decode()
    assert related.code in body and "Gắn vào khách hàng này" in body
    client.post(f"/admin/orders/{related.code}/link/", {"customer": c.code})
    related.refresh_from_db()
    assert related.customer == c
    overview = client.get(f"/admin/customers/{c.code}/").content.decode()
    assert "2.800.000 ₫" in overview  # total spend: 1.8M + 1M


def test_customer_list_sorts_and_filters_by_spend(login, manager, tenant):
    big, small, none = (customer(tenant, phone=p) for p in ("0912000001", "0912000002",
                                                            "0912000003"))
    order(tenant, big, total=9_000_000)
    order(tenant, small, total=1_000_000, paid_amount=0)
    client = login(manager)
    body = client.get("/admin/customers/", {"sort": "-spend"}).content.decode()
    assert body.index(big.code) < body.index(small.code) < body.index(none.code)
    body = client.get("/admin/customers/", {"spend_min": 5_000_000}).content.decode()
    assert big.code in body and small.code not in body
    body = client.get("/admin/customers/", {"debt_min": 1}).content.decode()
    assert big.code in body and small.code in body and none.code not in body
    body = client.get("/admin/customers/", {"ordered_within": 1,
                                            "ordered_mode": "without"}).content.decode()
    assert none.code in body and big.code not in body
    assert "9.000.000 ₫" in client.get("/admin/customers/").content.decode()


def test_recompute_page_runs_the_task_and_shows_progress(login, manager, tenant,
                                                         django_capture_on_commit_callbacks):
    customer(tenant)
    client = login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/orders/recompute/")
    assert response.status_code == 302 and "job=" in response.url
    fragment = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "Xong" in fragment
    assert CustomerStats.objects.filter(tenant=tenant).count() == 1


def test_api_keys_owner_only_and_shown_once(login, owner, manager, tenant):
    assert login(manager).get("/admin/orders/api-keys/").status_code == 403
    client = login(owner)
    body = client.post("/admin/orders/api-keys/", {"name": "Haravan"}).content.decode()
    key = ApiKey.objects.get()
    assert f"kh_{key.prefix}_" in body and key.key_hash not in body
    assert f"kh_{key.prefix}_" in client.get("/admin/orders/api-keys/").content.decode()
    client.post(f"/admin/orders/api-keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_collaborator_has_no_order_screens(login, collaborator):
    assert login(collaborator).get("/admin/orders/").status_code == 403


def test_recompute_progress_is_scoped_to_the_shop(login, manager, other_manager, tenant,
                                                  django_capture_on_commit_callbacks):
    customer(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(manager).post("/admin/orders/recompute/")
    job_url = response.url
    assert "Xong" in login(manager).get(job_url, HTTP_HX_REQUEST="true").content.decode()
    # The same job id read from another shop finds nothing (and does not poll forever).
    fragment = login(other_manager).get(job_url, HTTP_HX_REQUEST="true").content.decode()
    assert "Xong" not in fragment and "hx-get" not in fragment
