import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_logs_in_and_sees_dashboard(page, manager, browser_login, shot):
    page.goto("/admin/")
    assert "/admin/login/" in page.url
    shot(page, "login")
    browser_login(manager)
    assert page.locator(".page-title").inner_text() == manager.tenant.name
    assert page.get_by_role("link", name="Tổng quan").is_visible()
    shot(page, "dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "dashboard-phone")


def test_wrong_password_shows_message(page, manager):
    page.goto("/admin/login/")
    page.fill("#id_username", manager.user.username)
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "Sai tên đăng nhập hoặc mật khẩu" in page.locator(".alert-danger").inner_text()
