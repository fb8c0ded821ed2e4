"""The customer list's saved filters (groups.saved_filters, groups.services.saved,
groups.filter_views): the built-in filters per shop, users' filters private or shared,
names, rights, the chips above the list and what they cost, "Tạo nhóm từ bộ lọc"."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import registry
from crm.access import AccessDenied
from crm.models import AuditLog, UserPreference
from customers.filters import customer_filterset, query_to_rule
from customers.models import Customer, MembershipState, Source
from groups import services
from groups.models import CustomerGroup, GroupKind, SavedFilter
from groups.saved_filters import (
    BUILT_IN,
    built_in_filters,
    channel_filters,
    list_state,
    same_state,
)
from orders.models import CustomerStats
from tests.crm.factories import MembershipFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/customers/"
SAVE = "/admin/customers/saved-filters/new/"
TO_GROUP = "/admin/customers/saved-filters/to-group/"


def save(tenant, actor, name="Khách Shopee", query="source=1", **kwargs) -> SavedFilter:
    return services.saved_filter_create(tenant=tenant, actor=actor, name=name, query=query,
                                        **kwargs)


def codes(error: ValidationError) -> set[str]:
    return {e.code for errors in error.error_dict.values() for e in errors}


def matching(tenant, query: str) -> set[str]:
    """The names of the shop's customers the list shows for ``query``."""
    filterset = customer_filterset()(QueryDict(query), tenant=tenant,
                                     queryset=Customer.objects.for_tenant(tenant))
    return set(filterset.qs.values_list("full_name", flat=True))


# --- the built-in filters -------------------------------------------------------------------

def test_every_shop_has_the_built_ins_and_one_filter_per_channel(tenant, lists, other_tenant):
    from customers.defaults import seed_defaults

    seed_defaults(other_tenant)
    channels = channel_filters(tenant)
    names = [str(f.label) for f in channels]
    # The shop's channels (sources inside a channel group), in the settings' order.
    expected = list(Source.objects.for_tenant(tenant).filter(parent__isnull=False)
                    .order_by("parent__position", "position").values_list("pk", "name"))
    assert len(channels) == len(expected) == 13
    assert [f.query for f in channels] == [f"source={pk}" for pk, _name in expected]
    assert "Customers from Shopee" in names or "Khách hàng từ Shopee" in names
    assert not any("Sàn TMĐT" in n or "Người giới thiệu" in n for n in names)
    assert [f.key for f in built_in_filters(tenant)[:5]] == [f.key for f in BUILT_IN]
    # Another shop's channels are its own ids.
    theirs = {f.query for f in channel_filters(other_tenant)}
    assert theirs.isdisjoint(f.query for f in channels)


def test_channel_filters_follow_the_settings(tenant, lists):
    shopee = Source.objects.for_tenant(tenant).get(code="shopee")
    shopee.is_active = False
    shopee.save()
    marketplace = Source.objects.for_tenant(tenant).get(code="ads")
    marketplace.is_active = False
    marketplace.save()
    new = Source.objects.create(tenant=tenant, name="Zalo OA", position=9,
                                parent=Source.objects.for_tenant(tenant).get(code="shop"))
    queries = [f.query for f in channel_filters(tenant)]
    assert f"source={shopee.pk}" not in queries
    assert not any(f"source={c.pk}" in queries for c in marketplace.children.all())
    assert f"source={new.pk}" in queries
    assert len(queries) == 13 - 1 - 3 + 1


def test_two_channels_of_one_name_read_with_their_group(tenant, lists):
    Source.objects.create(tenant=tenant, name="Shopee", position=5,
                          parent=Source.objects.for_tenant(tenant).get(code="ads"))
    labels = [str(f.label) for f in channel_filters(tenant)]
    assert sum("Sàn TMĐT › Shopee" in label for label in labels) == 1
    assert sum("Quảng cáo online › Shopee" in label for label in labels) == 1


def bought(tenant, name, days_ago, state=MembershipState.GUEST, source=None):
    customer = CustomerFactory(tenant=tenant, full_name=name, membership_state=state,
                               source=source)
    if days_ago is not None:
        CustomerStats.objects.create(
            tenant=tenant, customer=customer, delivered_orders=1, total_spend=100_000,
            last_order_at=timezone.now() - datetime.timedelta(days=days_ago))
    return customer


def test_built_in_filters_select_the_right_customers(tenant, lists):
    shopee = Source.objects.for_tenant(tenant).get(code="shopee")
    bought(tenant, "Hôm qua", 1, MembershipState.ACTIVE, source=shopee)
    bought(tenant, "Bảy ngày", 7, MembershipState.PENDING)
    bought(tenant, "Hai mươi ngày", 20, MembershipState.CANCELLED)
    bought(tenant, "Ba mươi mốt ngày", 31, MembershipState.GUEST)
    bought(tenant, "Chín mươi ngày", 90, MembershipState.ACTIVE)
    bought(tenant, "Chưa mua", None, MembershipState.GUEST, source=shopee)
    by_key = {f.key: f.query for f in built_in_filters(tenant)}
    assert matching(tenant, by_key["recent-7"]) == {"Hôm qua", "Bảy ngày"}
    assert matching(tenant, by_key["recent-30"]) == {"Hôm qua", "Bảy ngày", "Hai mươi ngày"}
    # "Not bought for over 30 days": never-bought customers are not in it.
    assert matching(tenant, by_key["lapsed"]) == {"Ba mươi mốt ngày", "Chín mươi ngày"}
    assert matching(tenant, by_key["members"]) == {"Hôm qua", "Chín mươi ngày"}
    assert matching(tenant, by_key["not-members"]) == {"Bảy ngày", "Ba mươi mốt ngày",
                                                       "Chưa mua"}
    assert matching(tenant, by_key[f"channel-{shopee.pk}"]) == {"Hôm qua", "Chưa mua"}


def test_list_state_drops_paging_and_empty_boxes_and_compares_in_any_order():
    assert list_state("?q=lan&after=abc&before=&source=&_panel=count&sort=-spend") == \
        "q=lan&sort=-spend"
    assert same_state("source=3&q=lan", "q=lan&source=3&size=100&after=xyz")
    assert same_state("", "sort=-created")  # the default sort is no state of its own
    assert not same_state("membership_state=guest", "membership_state=guest"
                                                    "&membership_state=pending")


# --- users' saved filters -------------------------------------------------------------------

def test_create_private_and_shared(tenant, manager, staff):
    private = save(tenant, staff, "  Khách   của tôi ", "q=lan&after=xyz&source=", columns=[
        "name", "phone"])
    assert (private.name, private.query, private.columns, private.shared) == (
        "Khách của tôi", "q=lan", ["name", "phone"], False)
    shared = save(tenant, manager, "Khách VIP", "total_spend_min=5000000", shared=True)
    assert shared.shared and shared.owner == manager
    assert AuditLog.objects.filter(action="saved_filter.create").count() == 2


def test_another_user_does_not_see_a_private_filter(tenant, manager, staff, login):
    save(tenant, staff, "Riêng của nhân viên", "q=lan")
    save(tenant, manager, "Chung của quản lý", "q=mai", shared=True)
    other = MembershipFactory(tenant=tenant, role="staff")
    names = {f.name for f in services.saved.visible_saved_filters(tenant, other)}
    assert names == {"Chung của quản lý"}
    page = login(other).get(LIST).content.decode()
    assert "Chung của quản lý" in page and "Riêng của nhân viên" not in page
    page = login(staff).get(LIST).content.decode()
    assert "Chung của quản lý" in page and "Riêng của nhân viên" in page


def test_staff_and_collaborators_cannot_share(tenant, staff, collaborator):
    for member in (staff, collaborator):
        with pytest.raises(AccessDenied):
            save(tenant, member, "Chung", "q=a", shared=True)
        mine = save(tenant, member, f"Riêng {member.pk}", "q=a")
        with pytest.raises(AccessDenied):
            services.saved_filter_update(tenant=tenant, actor=member, saved_filter=mine,
                                         shared=True)
    assert not SavedFilter.objects.filter(shared=True).exists()


def test_name_is_required_and_unique_per_owner(tenant, manager, staff):
    save(tenant, staff, "Khách Shopee", "q=a")
    with pytest.raises(ValidationError) as error:
        save(tenant, staff, "  khách   SHOPEE ", "q=b")
    assert codes(error.value) == {"unique"}
    assert "Khách Shopee" in str(error.value) or "khách SHOPEE" in str(error.value)
    with pytest.raises(ValidationError) as error:
        save(tenant, staff, "   ", "q=b")
    assert codes(error.value) == {"required"}
    with pytest.raises(ValidationError) as error:
        save(tenant, staff, "x" * 81, "q=b")
    assert codes(error.value) == {"max_length"}
    # Another person may use the name; two shared filters of the shop may not share one.
    save(tenant, manager, "Khách Shopee", "q=c", shared=True)
    other_manager = MembershipFactory(tenant=tenant, role="manager")
    with pytest.raises(ValidationError) as error:
        save(tenant, other_manager, "KHÁCH SHOPEE", "q=d", shared=True)
    assert codes(error.value) == {"unique_shared"}


def test_query_length_is_bounded(tenant, staff):
    with pytest.raises(ValidationError) as error:
        save(tenant, staff, "Dài", "q=" + "a" * 2000)
    assert codes(error.value) == {"max_length"}
    assert not SavedFilter.objects.exists()


def test_only_the_owner_renames(tenant, manager, staff):
    shared = save(tenant, manager, "Chung", "q=a", shared=True)
    with pytest.raises(AccessDenied):
        services.saved_filter_update(tenant=tenant, actor=staff, saved_filter=shared,
                                     name="Của tôi")
    other_manager = MembershipFactory(tenant=tenant, role="manager")
    with pytest.raises(AccessDenied):
        services.saved_filter_update(tenant=tenant, actor=other_manager, saved_filter=shared,
                                     name="Của tôi")
    renamed = services.saved_filter_update(tenant=tenant, actor=manager, saved_filter=shared,
                                           name="Chung cả shop", shared=False)
    assert (renamed.name, renamed.shared) == ("Chung cả shop", False)
    audit = AuditLog.objects.get(action="saved_filter.update")
    assert audit.before == {"name": "Chung", "shared": True}


def test_delete_rights(tenant, manager, staff, owner):
    mine = save(tenant, staff, "Của nhân viên", "q=a")
    theirs_shared = save(tenant, owner, "Của chủ shop", "q=b", shared=True)
    theirs_private = save(tenant, owner, "Riêng chủ shop", "q=c")
    # Staff: their own only, not a shared filter of someone else.
    with pytest.raises(AccessDenied):
        services.saved_filter_delete(tenant=tenant, actor=staff, saved_filter=theirs_shared)
    services.saved_filter_delete(tenant=tenant, actor=staff, saved_filter=mine)
    # A manager deletes a shared filter of someone else, never a private one.
    with pytest.raises(AccessDenied):
        services.saved_filter_delete(tenant=tenant, actor=manager, saved_filter=theirs_private)
    services.saved_filter_delete(tenant=tenant, actor=manager, saved_filter=theirs_shared)
    assert list(SavedFilter.objects.values_list("name", flat=True)) == ["Riêng chủ shop"]
    assert AuditLog.objects.filter(action="saved_filter.delete").count() == 2


def test_delete_and_rename_pages(tenant, manager, staff, login):
    private = save(tenant, manager, "Riêng quản lý", "q=a")
    shared = save(tenant, manager, "Chung", "q=b", shared=True)
    client = login(staff)
    # Another person's private filter is not there; a shared one is not theirs to change.
    assert client.post(f"/admin/customers/saved-filters/{private.pk}/delete/").status_code == 404
    assert client.get(f"/admin/customers/saved-filters/{private.pk}/edit/").status_code == 404
    assert client.get(f"/admin/customers/saved-filters/{shared.pk}/edit/").status_code == 403
    assert client.post(f"/admin/customers/saved-filters/{shared.pk}/delete/").status_code == 403
    client = login(manager)
    response = client.post(f"/admin/customers/saved-filters/{private.pk}/edit/",
                           {"name": "Đổi tên", "shared": "on"})
    assert response.status_code == 302
    private.refresh_from_db()
    assert (private.name, private.shared) == ("Đổi tên", True)
    response = client.post(f"/admin/customers/saved-filters/{shared.pk}/delete/",
                           {"next": "/admin/customers/?q=b"})
    assert response["Location"] == "/admin/customers/?q=b"
    assert not SavedFilter.objects.filter(pk=shared.pk).exists()


# --- the dialog ("Thêm bộ lọc") --------------------------------------------------------------

def test_save_dialog_keeps_the_list_state_and_the_columns(tenant, staff, login):
    client = login(staff)
    UserPreference.objects.create(tenant=tenant, user=staff.user, key="customers.list",
                                  value={"columns": ["phone", "name"]})
    response = client.post(SAVE, {"name": "Khách Lan", "query": "q=lan&after=abc",
                                  "with_columns": "on", "shared": "on"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/admin/customers/?q=lan"
    saved = SavedFilter.objects.get()
    # Staff cannot share: the box is not in their form, so the filter is private.
    assert (saved.query, saved.shared, saved.owner) == ("q=lan", False, staff)
    from customers.views import CustomerListView

    chosen = [c.key for c in CustomerListView.column_choice.chosen(tenant, staff.user)]
    assert saved.columns == chosen


def test_save_dialog_shows_errors_in_place(tenant, staff, login):
    save(tenant, staff, "Khách Lan", "q=lan")
    client = login(staff)
    response = client.post(SAVE, {"name": "khách lan", "query": "q=lan2"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Redirect" not in response
    assert "<html" not in body and 'data-save-filter-form' in body
    assert "invalid-feedback" in body
    # Without JavaScript it is a page of its own.
    response = client.post(SAVE, {"name": "", "query": "q=lan2"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert SavedFilter.objects.count() == 1


def test_use_its_columns(tenant, staff, login):
    saved = save(tenant, staff, "Cột riêng", "q=lan", columns=["phone", "name"])
    client = login(staff)
    response = client.post(f"/admin/customers/saved-filters/{saved.pk}/columns/")
    assert response["Location"] == "/admin/customers/?q=lan"
    from customers.views import CustomerListView

    chosen = [c.key for c in CustomerListView.column_choice.chosen(tenant, staff.user)]
    assert chosen == ["phone", "name"]


# --- the chips ------------------------------------------------------------------------------

def chips(body: str) -> list[tuple[str, bool]]:
    """(label, active) of each chip of the page."""
    found = []
    for tag in re.findall(r"<a [^>]*data-chip[^>]*>", body):
        label = re.search(r'data-label="([^"]*)"', tag).group(1)
        found.append((label, 'class="' in tag and " active" in re.search(
            r'class="([^"]*)"', tag).group(1)))
    return found


def test_chips_in_order_and_the_active_one(tenant, lists, manager, staff, login):
    save(tenant, staff, "B của tôi", "q=lan")
    save(tenant, staff, "A của tôi", "q=mai")
    save(tenant, manager, "Chung", "membership_state=active&sort=-spend", shared=True)
    client = login(staff)
    labels = [label for label, _on in chips(client.get(LIST).content.decode())]
    assert len(labels) == 5 + 13 + 1 + 2
    assert labels[-3:] == ["Chung", "A của tôi", "B của tôi"]  # shared, then own by name
    # The list in a chip's state: that chip is active (parameters in any order, paging off).
    active = [label for label, on in chips(client.get(
        LIST + "?sort=-spend&membership_state=active&after=xyz").content.decode()) if on]
    assert active == ["Chung"]
    active = [label for label, on in chips(client.get(
        LIST + "?days_since_purchase_max=7").content.decode()) if on]
    assert len(active) == 1 and active[0] == str(BUILT_IN[0].label)
    assert not any(on for _l, on in chips(client.get(LIST + "?q=khac").content.decode()))


def test_chips_cost_two_queries_whatever_their_number(tenant, lists, manager, staff, rf):
    def toolbar_queries():
        request = rf.get(LIST)
        request.tenant, request.membership, request.user = tenant, staff, staff.user
        with CaptureQueriesContext(connection) as ctx:
            blocks = registry.toolbar_blocks("customers", request, {"columns": []})
            # The template reads nothing more (owner names come with the filters).
            from django.template.loader import render_to_string

            render_to_string(blocks[0]["template"], {"toolbar": blocks[0]["toolbar"],
                                                     "request": request})
        return len(ctx.captured_queries)

    assert toolbar_queries() == 2  # the channels and the saved filters
    for n in range(8):
        save(tenant, staff, f"Riêng {n}", f"q={n}")
        save(tenant, manager, f"Chung {n}", f"q=c{n}", shared=True)
    assert toolbar_queries() == 2


def test_the_table_requests_of_the_list_do_not_read_the_chips(tenant, lists, staff, login):
    client = login(staff)
    with CaptureQueriesContext(connection) as page:
        client.get(LIST)
    with CaptureQueriesContext(connection) as table:
        body = client.get(LIST, HTTP_HX_REQUEST="true").content.decode()
    assert "data-saved-filters" not in body
    assert len(table.captured_queries) <= len(page.captured_queries) - 2


def test_chip_menus_follow_the_rights(tenant, lists, manager, staff, login):
    shared = save(tenant, manager, "Chung", "q=a", shared=True)
    mine = save(tenant, staff, "Của tôi", "q=b")
    body = login(staff).get(LIST).content.decode()
    assert f"/saved-filters/{mine.pk}/edit/" in body
    assert f"/saved-filters/{mine.pk}/delete/" in body
    assert f"/saved-filters/{shared.pk}/delete/" not in body
    assert f"/saved-filters/{shared.pk}/edit/" not in body
    assert TO_GROUP not in body  # staff do not make groups
    body = login(manager).get(LIST).content.decode()
    assert f"/saved-filters/{shared.pk}/delete/" in body and TO_GROUP in body
    assert f"/saved-filters/{mine.pk}/" not in body  # another person's private filter


# --- "Tạo nhóm từ bộ lọc" ---------------------------------------------------------------------

def test_a_saved_filter_becomes_a_group_with_the_same_rule(tenant, lists, manager):
    shopee = Source.objects.for_tenant(tenant).get(code="shopee")
    query = f"source={shopee.pk}&days_since_purchase_max=30&q=lan&sort=-spend"
    group = services.group_from_filter(tenant=tenant, actor=manager, name="Khách Shopee",
                                       query=query)
    assert (group.name, group.kind) == ("Khách Shopee", GroupKind.RULE)
    assert group.rule == query_to_rule(tenant, query)
    fields = [c["field"] for c in group.rule["conditions"]]
    assert sorted(fields) == ["days_since_purchase", "keyword", "source"]
    # A second group of the same name gets a number.
    again = services.group_from_filter(tenant=tenant, actor=manager, name="khách shopee",
                                       query=query)
    assert again.name == "khách shopee (2)"


def test_a_list_without_filters_is_no_group(tenant, manager):
    with pytest.raises(ValidationError):
        services.group_from_filter(tenant=tenant, actor=manager, name="Tất cả",
                                   query="sort=-spend&size=100")
    assert not CustomerGroup.objects.exists()


def test_staff_cannot_make_a_group(tenant, staff, login):
    with pytest.raises(AccessDenied):
        services.group_from_filter(tenant=tenant, actor=staff, name="X",
                                   query="q=lan")
    assert login(staff).post(TO_GROUP, {"query": "q=lan"}).status_code == 403
    assert not CustomerGroup.objects.exists()


def test_to_group_button_from_a_built_in_a_saved_filter_and_the_list(tenant, lists, manager,
                                                                    login):
    client = login(manager)
    response = client.post(TO_GROUP, {"filter": "recent-7"})
    group = CustomerGroup.objects.get()
    assert response["Location"] == f"/admin/customers/groups/{group.pk}/"
    assert group.rule == {"conditions": [
        {"field": "days_since_purchase", "op": "lte", "value": 7}]}
    assert group.name == str(BUILT_IN[0].label)
    saved = save(tenant, manager, "Thành viên", "membership_state=active")
    client.post(TO_GROUP, {"filter": str(saved.pk)})
    assert CustomerGroup.objects.get(name="Thành viên").rule == {"conditions": [
        {"field": "membership", "op": "in", "value": ["active"]}]}
    client.post(TO_GROUP, {"query": "q=lan", "name": ""})
    assert CustomerGroup.objects.filter(rule={"conditions": [
        {"field": "keyword", "op": "contains", "value": "lan"}]}).exists()
    # Another person's private filter, or an unknown key, makes nothing.
    theirs = save(tenant, MembershipFactory(tenant=tenant, role="manager"), "Riêng", "q=x")
    count = CustomerGroup.objects.count()
    client.post(TO_GROUP, {"filter": str(theirs.pk)})
    client.post(TO_GROUP, {"filter": "channel-999999"})
    assert CustomerGroup.objects.count() == count
