import pytest
from django.core.management import call_command

from crm.models import AuditLog, Membership, Role, Tenant
from crm.tenancy import SESSION_KEY
from tests.crm.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_vietnamese_and_logs_in(client, manager):
    page = client.get("/admin/login/")
    assert "Đăng nhập" in page.content.decode()
    response = client.post("/admin/login/", {"username": manager.user.username,
                                             "password": PASSWORD}, follow=True)
    body = response.content.decode()
    assert manager.tenant.name in body
    assert "Tổng quan" in body


def test_login_wrong_password_message(client, manager):
    response = client.post("/admin/login/", {"username": manager.user.username,
                                             "password": "nope"})
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()


def test_switch_into_own_second_shop(login, manager, other_tenant):
    MembershipFactory(user=manager.user, tenant=other_tenant, role=Role.STAFF)
    client = login(manager)
    response = client.post("/admin/switch-shop/", {"tenant": other_tenant.pk}, follow=True)
    assert client.session[SESSION_KEY] == other_tenant.pk
    assert other_tenant.name in response.content.decode()


def test_cannot_switch_into_foreign_shop(login, manager, other_tenant):
    client = login(manager)
    client.get("/admin/")
    response = client.post("/admin/switch-shop/", {"tenant": other_tenant.pk}, follow=True)
    assert client.session[SESSION_KEY] == manager.tenant_id
    assert "Bạn không phải thành viên của cửa hàng đó" in response.content.decode()


def test_dashboard_shows_switcher_only_for_multi_shop_users(login, manager, other_tenant):
    client = login(manager)
    assert 'data-testid="shop-switcher"' not in client.get("/admin/").content.decode()
    MembershipFactory(user=manager.user, tenant=other_tenant)
    assert 'data-testid="shop-switcher"' in client.get("/admin/").content.decode()


def test_owner_updates_shop_settings_with_audit(login, owner):
    response = login(owner).post("/admin/settings/", {
        "name": "Shop A mới", "vip_threshold": 50_000_000, "vip_window_months": 3,
        "auto_create_guest_customers": "on",
    })
    assert response.status_code == 302
    owner.tenant.refresh_from_db()
    assert owner.tenant.vip_threshold == 50_000_000
    row = AuditLog.objects.for_tenant(owner.tenant).get(action="tenant.settings")
    assert row.before["vip_threshold"] == 30_000_000
    assert row.after == {"name": "Shop A mới", "vip_threshold": 50_000_000,
                         "vip_window_months": 3}


def test_settings_bad_input_has_clear_message(login, owner):
    response = login(owner).post("/admin/settings/", {
        "name": "Shop", "vip_threshold": 1, "vip_window_months": 40,
    })
    assert response.status_code == 200
    assert "Chọn từ 1 đến 12 tháng." in response.content.decode()


def test_manager_cannot_change_shop_settings(login, manager):
    before = manager.tenant.name
    login(manager).post("/admin/settings/", {"name": "Hacked", "vip_threshold": 1,
                                             "vip_window_months": 1})
    manager.tenant.refresh_from_db()
    assert manager.tenant.name == before


def test_platform_admin_needs_staff_flag(login, owner):
    response = login(owner).get("/platform/")
    assert response.status_code == 302
    assert "/platform/login/" in response.url


def test_seed_demo_creates_shop_users_and_is_idempotent(db, capsys):
    call_command("seed_demo", customers=5)
    call_command("seed_demo", customers=5)
    tenant = Tenant.objects.get(slug="demo")
    roles = set(Membership.objects.filter(tenant=tenant).values_list("role", flat=True))
    assert roles == set(Role.values)
    assert "quanly" in capsys.readouterr().out


def test_vietnamese_by_default_even_for_english_browsers(login, manager):
    client = login(manager)
    body = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Tổng quan" in body


def test_language_switch_to_english_is_remembered(login, manager):
    client = login(manager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert "Dashboard" in client.get("/admin/").content.decode()
    client.post("/i18n/setlang/", {"language": "vi", "next": "/admin/"})
    assert "Tổng quan" in client.get("/admin/").content.decode()
