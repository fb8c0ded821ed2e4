"""Layout defects that only a browser sees: overlap, wrapping, widths, the address bar."""

import pytest
from playwright.sync_api import expect

from crm.access import SYSTEM
from customers import services
from customers.defaults import seed_defaults
from customers.models import Tag, TagGroup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [(1366, 768), (390, 844)]


@pytest.fixture
def shop(manager):
    seed_defaults(manager.tenant)
    one = TagGroup.objects.create(tenant=manager.tenant, name="Quy mô khách hàng", multiple=False,
                                  position=9)
    for name in ("Hộ kinh doanh nhỏ", "Doanh nghiệp vừa và lớn"):
        Tag.objects.create(tenant=manager.tenant, group=one, name=name)
    services.customer_create(tenant=manager.tenant, actor=SYSTEM,
                             data={"full_name": "Nguyễn Văn Đức", "phone": "0912 345 678"})
    return manager


def _overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("width,height", WIDTHS)
def test_tags_card_groups_are_labelled_rows_of_whole_chips(page, shop, browser_login, shot,
                                                            width, height):
    page.set_viewport_size({"width": width, "height": height})
    browser_login(shop)
    page.goto("/admin/customers/KH000001/edit/")
    groups = page.get_by_test_id("tag-group")
    expect(groups).to_have_count(4)
    for i in range(groups.count()):
        group = groups.nth(i)
        label = group.locator("legend").bounding_box()
        chips = group.locator(".chip")
        assert chips.count() >= 2
        for j in range(chips.count()):
            chip = chips.nth(j)
            box = chip.bounding_box()
            assert not _overlap(label, box), f"chip {chip.inner_text()} covers its group's label"
            assert box["y"] >= label["y"] + label["height"] - 1  # chips sit under the label
            # One line of text: a chip is no taller than its line height plus padding.
            lines = chip.evaluate("el => Math.round(el.getBoundingClientRect().height / "
                                  "parseFloat(getComputedStyle(el).lineHeight))")
            assert lines <= 1, f"chip {chip.inner_text()!r} wraps"
            assert box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"tags-card-{width}")
    # Ticking a chip and a one-choice chip saves both tags.
    page.locator(".chip").get_by_text("Cà phê", exact=True).click()
    page.locator(".chip").get_by_text("Doanh nghiệp vừa và lớn", exact=True).click()
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/admin/customers/KH000001/")
    from customers.models import Customer
    assert {t.name for t in Customer.objects.get(number=1).tags.all()} == {
        "Cà phê", "Doanh nghiệp vừa và lớn"}


def test_a_search_puts_only_filled_boxes_in_the_address(page, shop, browser_login):
    browser_login(shop)
    page.goto("/admin/orders/")
    page.fill("input[name=q]", "Đức")
    page.click("form[data-clean-get] button[type=submit]")
    page.wait_for_url("**/admin/orders/?q=*")
    assert page.url.split("?", 1)[1] == "q=%C4%90%E1%BB%A9c"
    # The customer list searches as you type (htmx); the pushed address is as short.
    page.goto("/admin/customers/")
    page.fill("#q", "duc")
    page.wait_for_url("**/admin/customers/?q=duc")
    expect(page.locator("tbody")).to_contain_text("Nguyễn Văn Đức")
    assert page.url.split("?", 1)[1] == "q=duc"


def test_cancelling_an_order_asks_first_with_the_red_button_last(page, shop, browser_login,
                                                                 shot):
    from orders.models import Order
    from orders.services import order_create

    order = order_create(tenant=shop.tenant, actor=SYSTEM,
                         data={"contact": {"name": "Nguyễn Văn Đức", "phone": "0912 345 678"}},
                         lines=[{"product_name": "Trà sen", "quantity": 1, "unit_price": 150_000}])
    browser_login(shop)
    page.goto(f"/admin/orders/{order.code}/")
    heading = page.locator(".page-title")
    code_box = heading.get_by_text(order.code, exact=True).bounding_box()
    badge_box = heading.locator(".badge").bounding_box()
    assert badge_box["x"] >= code_box["x"] + code_box["width"] + 4  # not run together
    buttons = page.locator("button[name=status]")
    values = [buttons.nth(i).get_attribute("value") for i in range(buttons.count())]
    assert values[-1] == "cancelled" and values.count("cancelled") == 1
    # Going back changes nothing.
    page.click("button[name=status][value=cancelled]")
    dialog = page.locator("[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-dialog-title]")).to_contain_text(f"{order.code}?")
    footer = dialog.locator(".modal-footer button")
    assert footer.last.get_attribute("data-dialog-accept") is not None  # destructive last
    expect(footer.first).to_be_focused()
    shot(page, "order-cancel-confirm")
    footer.first.click()
    expect(dialog).to_be_hidden()
    order.refresh_from_db()
    assert order.status != "cancelled"
    # Confirming posts the same button.
    page.click("button[name=status][value=cancelled]")
    dialog.locator("[data-dialog-accept]").click()
    expect(page.locator(".page-title .badge")).to_have_text("Đã hủy")
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def _inside(inner, outer) -> bool:
    return (inner["x"] >= outer["x"] - 1 and inner["x"] + inner["width"] <= outer["x"]
            + outer["width"] + 1)


def test_widths_orders_list_profile_tabs_sidebar_and_phone_filters(page, shop, browser_login):
    from orders.services import order_create

    order_create(tenant=shop.tenant, actor=SYSTEM,
                 data={"contact": {"name": "Nguyễn Văn Đức", "phone": "0912 345 678"}},
                 lines=[{"product_name": "Trà sen", "quantity": 1, "unit_price": 150_000}])
    browser_login(shop)
    # 1366: the orders table fits its card; the debt column is in sight.
    page.goto("/admin/orders/")
    box = page.locator(".table-responsive").first
    assert box.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert _inside(page.locator("thead th").last.bounding_box(), box.bounding_box())
    # Every profile tab is in sight (they wrap), "Lịch sử thay đổi" included.
    page.goto("/admin/customers/KH000001/history/")
    strip = page.get_by_test_id("profile-tabs").bounding_box()
    tabs = page.locator(".profile-tabs .nav-link")
    assert tabs.count() >= 3
    for i in range(tabs.count()):
        assert _inside(tabs.nth(i).bounding_box(), strip), tabs.nth(i).inner_text()
    # The dark sidebar runs the whole length of a long page.
    page.goto("/admin/customers/KH000001/edit/")
    aside, full = page.evaluate("""() => [document.querySelector('aside').getBoundingClientRect()
        .height, document.documentElement.scrollHeight]""")
    assert full > 768 and aside >= full - 1
    # 390: the order filters fold behind "Bộ lọc" unless one is in use.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/orders/")
    filters = page.get_by_test_id("order-filters")
    expect(filters).to_be_hidden()
    page.locator("[data-bs-target='#order-filters']").click()
    expect(filters).to_be_visible()
    page.goto("/admin/orders/?status=delivered")
    expect(page.get_by_test_id("order-filters")).to_be_visible()
    # The profile's tab strip scrolls, the active tab in view.
    page.goto("/admin/customers/KH000001/history/")
    strip = page.get_by_test_id("profile-tabs")
    assert strip.evaluate("el => el.scrollWidth > el.clientWidth")
    assert _inside(page.locator(".profile-tabs .nav-link.active").bounding_box(),
                   strip.bounding_box())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
