import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_staff_member_who_signs_in(page, owner, browser_login, shot):
    browser_login(owner)
    page.click("#sidebar-menu a[href='/admin/staff/']")
    page.click("a[href='/admin/staff/add/']")
    page.fill("#id_last_name", "Võ Thị")
    page.fill("#id_first_name", "Mai")
    page.fill("#id_username", "vomai")
    page.fill("#id_phone", "0912 345 678")
    page.select_option("#id_role", "staff")
    page.check("input[name=password_method][value=temporary]")
    shot(page, "staff-add")
    page.click("form[data-testid=staff-add-form] button[type=submit]")
    password = page.locator("[data-testid=password-value]").inner_text().strip()
    assert len(password) == 14
    shot(page, "staff-temporary-password")
    page.click("a.btn-primary[href='/admin/staff/']")
    row = page.locator("[data-testid=staff-table] tr", has_text="Võ Thị Mai")
    assert "vomai" in row.inner_text() and "Nhân viên" in row.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "staff-list-phone")

    # The new person signs in with the temporary password.
    page.context.clear_cookies()
    page.goto("/admin/login/")
    page.fill("#id_username", "vomai")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    assert owner.tenant.name in page.content()
