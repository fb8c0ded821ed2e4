"""With the Content-Security-Policy on, the handlers moved to static/js still work.

The page fixture fails any test on a CSP violation reported on the console.
"""

import pytest
from playwright.sync_api import expect

from crm.models import Role
from tests.crm.factories import MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_selects_submit_their_form_and_htmx_runs_without_eval(page, manager, browser_login):
    second = TenantFactory(name="Cửa hàng thứ hai", slug="cua-hang-thu-hai")
    MembershipFactory(user=manager.user, tenant=second, role=Role.STAFF)
    response = page.goto("/admin/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    browser_login(manager)
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False

    page.get_by_label("Ngôn ngữ").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option("vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    current = page.locator(".page-title").inner_text()
    other = second.name if current == manager.tenant.name else manager.tenant.name
    page.get_by_test_id("shop-switcher").locator("select").select_option(label=other)
    expect(page.locator(".page-title")).to_have_text(other)

    page.goto("/admin/customers/")
    page.select_option("#page-size", "50")
    page.wait_for_url("**size=50**")


def test_not_found_page_in_the_layout(page, manager, browser_login, shot):
    browser_login(manager)
    response = page.goto("/admin/customers/KH999999/")
    assert response.status == 404
    expect(page.get_by_test_id("error-page")).to_contain_text("404")
    assert page.locator(".navbar-vertical").is_visible()
    shot(page, "error-404")
