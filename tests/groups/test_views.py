"""The group screens and the profile's Nhóm tab: the form with its rule, the live count, the
group page, the lists made by hand, archive / restore, "Vì sao?", who may see and who may
manage, and the query counts of the list and the group page."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from crm.access import SYSTEM, AccessDenied
from crm.models import AuditLog
from customers import services as customer_services
from customers.models import CustomerTag
from groups import services
from groups.models import (
    CustomerGroup,
    GroupEvent,
    GroupKind,
    GroupMember,
    GroupPin,
    PinMode,
    RecomputeState,
)
from tests.customers.factories import TagFactory
from tests.groups.factories import buyer

pytestmark = pytest.mark.django_db

LIST = "/admin/customers/groups/"
NEW = "/admin/customers/groups/new/"
COUNT = "/admin/customers/groups/count/"
KHACH_MOI = {"conditions": [{"field": "orders", "op": "gte", "value": 2},
                            {"field": "spend", "op": "gte", "value": 1_500_000}]}



@pytest.fixture
def shop(tenant):
    """Three customers: An (2 orders, 2.000.000 ₫), Bình (2 orders, 1.200.000 ₫), Chi (none)."""
    return {
        "an": buyer(tenant, "Nguyễn Văn An", "0912000001", 1_000_000, 1_000_000),
        "binh": buyer(tenant, "Trần Thị Bình", "0912000002", 600_000, 600_000),
        "chi": buyer(tenant, "Lê Minh Chi", "0912000003"),
    }


def make_group(tenant, actor, name="Khách mới", rule=KHACH_MOI, kind=GroupKind.RULE,
               capture=None):
    data = {"name": name, "kind": kind, "rule": rule}
    if capture is None:
        return services.group_create(tenant=tenant, actor=actor, data=data)
    with capture(execute=True):
        return services.group_create(tenant=tenant, actor=actor, data=data)


def member_names(group) -> set[str]:
    return set(GroupMember.objects.filter(group=group)
               .values_list("customer__full_name", flat=True))


def detail(group) -> str:
    return f"/admin/customers/groups/{group.pk}/"


# --- the form --------------------------------------------------------------------------------

def test_create_a_group_with_two_conditions(login, manager, shop,
                                            django_capture_on_commit_callbacks):
    client = login(manager)
    page = client.get(NEW)
    assert page.status_code == 200
    assert 'id="rule-catalog"' in page.content.decode()  # the builder's fields
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, {"name": "Khách mới", "description": "Mua nhiều",
                                     "kind": "rule", "rule": json.dumps(KHACH_MOI)})
    group = CustomerGroup.objects.get(name="Khách mới")
    assert response.status_code == 302 and response.url == detail(group)
    assert group.rule == KHACH_MOI and group.created_by == manager.user
    # The recompute queued by the form ran (eager Celery): An alone meets both conditions.
    assert member_names(group) == {"Nguyễn Văn An"}
    group.refresh_from_db()
    assert group.member_count == 1 and group.recompute_state == RecomputeState.IDLE
    assert AuditLog.objects.filter(action="group.create", object_id=group.pk).exists()


def test_a_bad_rule_is_refused_with_its_message_next_to_the_builder(login, manager, shop):
    client = login(manager)
    bad = {"conditions": [{"field": "birth_month", "op": "in", "value": [13]},
                          {"field": "no_such_field", "op": "eq", "value": 1}]}
    response = client.post(NEW, {"name": "Sai", "kind": "rule", "rule": json.dumps(bad)})
    assert response.status_code == 200
    errors = response.context["form"].errors["rule"]
    assert len(errors) == 2
    body = response.content.decode()
    assert 'data-testid="rule-errors"' in body
    for error in errors:
        assert str(error).replace("“", "&ldquo;") in body or \
            str(error).replace("“", "“") in body
    assert not CustomerGroup.objects.exists()
    # The posted rule comes back for the builder to rebuild.
    assert json.dumps(bad).replace('"', "&quot;") in body
    # Rubbish instead of JSON: one clear message.
    response = client.post(NEW, {"name": "Sai", "kind": "rule", "rule": "{oops"})
    assert response.context["form"].errors["rule"]


def test_the_name_is_unique_per_shop_whatever_the_case(login, manager, tenant, other_tenant,
                                                       other_manager, shop):
    make_group(tenant, manager, name="Khách VIP")
    client = login(manager)
    response = client.post(NEW, {"name": "  khách   vip ", "kind": "fixed", "rule": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert CustomerGroup.objects.filter(tenant=tenant).count() == 1
    # Archived groups keep their name: restoring one must not meet a twin.
    group = CustomerGroup.objects.get(tenant=tenant)
    services.group_archive(tenant=tenant, actor=manager, group=group)
    response = client.post(NEW, {"name": "KHÁCH VIP", "kind": "fixed", "rule": ""})
    assert response.context["form"].errors["name"]
    # Another shop may use the name.
    make_group(other_tenant, other_manager, name="Khách VIP", kind=GroupKind.FIXED, rule={})


def test_edit_bumps_the_version_and_queues_a_recompute(login, manager, tenant, shop,
                                                      django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    assert member_names(group) == {"Nguyễn Văn An"}
    client = login(manager)
    page = client.get(f"{detail(group)}edit/")
    form = page.context["form"]
    assert form["name"].value() == "Khách mới"
    # The builder starts from the rule in the hidden field.
    assert json.loads(form["rule"].value()) == KHACH_MOI
    assert f'value="{escape(form["rule"].value())}"' in page.content.decode()
    looser = {"conditions": [{"field": "orders", "op": "gte", "value": 2},
                             {"field": "spend", "op": "gte", "value": "1tr"}]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{detail(group)}edit/", {
            "name": "Khách mới", "description": "", "rule": json.dumps(looser)})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.version == 2 and group.recomputed_version == 2
    assert group.rule["conditions"][1]["value"] == 1_000_000  # "1tr" read as đồng
    assert member_names(group) == {"Nguyễn Văn An", "Trần Thị Bình"}
    # The kind is not offered again.
    assert "kind" not in client.get(f"{detail(group)}edit/").context["form"].fields
    # Saving without a change writes nothing.
    before = AuditLog.objects.count()
    client.post(f"{detail(group)}edit/", {"name": "Khách mới", "description": "",
                                          "rule": json.dumps(looser)})
    assert AuditLog.objects.count() == before
    group.refresh_from_db()
    assert group.version == 2


# --- the live count ----------------------------------------------------------------------------

def test_live_count_of_the_conditions_being_edited(login, manager, shop):
    client = login(manager)
    response = client.post(COUNT, {"rule": json.dumps(KHACH_MOI)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert (response.context["count"], response.context["more"]) == (1, False)
    assert 'data-testid="live-count-value"' in response.content.decode()
    looser = {"conditions": [{"any": [{"field": "spend", "op": "gte", "value": 1_000_000},
                                      {"field": "orders", "op": "eq", "value": 0}]}]}
    assert client.post(COUNT, {"rule": json.dumps(looser)}).context["count"] == 3
    # Not readable yet: why, instead of a number.
    half = {"conditions": [{"field": "spend", "op": "gte", "value": ""}]}
    response = client.post(COUNT, {"rule": json.dumps(half)})
    assert response.context["count"] is None and response.context["errors"]
    # No condition: the group would have nobody (not the whole shop).
    response = client.post(COUNT, {"rule": json.dumps({"conditions": []})})
    assert response.context["empty"] and response.context["count"] is None


def test_live_count_is_capped(login, manager, shop, monkeypatch):
    from crm import pagination

    real = pagination.capped_count
    monkeypatch.setattr("groups.selectors.capped_count", lambda qs: real(qs, cap=2))
    response = login(manager).post(COUNT, {"rule": json.dumps(
        {"conditions": [{"field": "orders", "op": "gte", "value": 0}]})})
    assert (response.context["count"], response.context["more"]) == (2, True)


def test_live_count_reads_only_this_shops_values(login, manager, other_tenant, shop):
    foreign_tag = TagFactory(tenant=other_tenant)
    response = login(manager).post(COUNT, {"rule": json.dumps(
        {"conditions": [{"field": "tags", "op": "any", "value": [foreign_tag.pk]}]})})
    assert response.context["count"] is None and response.context["errors"]


# --- the list ---------------------------------------------------------------------------------

def test_list_search_counts_and_archived_tab(login, manager, tenant, shop,
                                            django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    make_group(tenant, manager, name="Danh sách quà Tết", kind=GroupKind.FIXED, rule={})
    old = make_group(tenant, manager, name="Khách cũ", kind=GroupKind.FIXED, rule={})
    services.group_archive(tenant=tenant, actor=manager, group=old)
    client = login(manager)
    body = client.get(LIST).content.decode()
    assert "Khách mới" in body and "Danh sách quà Tết" in body and "Khách cũ" not in body
    assert 'data-testid="member-count">1<' in body
    assert "+1" in body  # the last recompute's joiners
    # Search by name in any accents and case; the htmx request answers the table only.
    response = client.get(LIST, {"q": "KHACH moi"}, HTTP_HX_REQUEST="true")
    table = response.content.decode()
    assert "Khách mới" in table and "Danh sách quà Tết" not in table
    assert "<html" not in table
    archived = client.get(LIST, {"archived": "1"}).content.decode()
    assert "Khách cũ" in archived and "Khách mới" not in archived
    assert str(group.pk) in body  # the row's checkbox for the bulk action


def test_bulk_action_tags_the_members_of_the_selected_groups(
        login, manager, tenant, shop, django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    fixed = make_group(tenant, manager, name="Quà Tết", kind=GroupKind.FIXED, rule={})
    services.group_pins_add(tenant=tenant, actor=manager, group=fixed,
                            customer_ids=[shop["chi"].pk, shop["an"].pk])
    tag = TagFactory(tenant=tenant, name="Tri ân")
    response = login(manager).post("/admin/customers/groups/bulk/", {
        "action": "add_tag", "codes": [group.pk, fixed.pk], "tag": tag.pk, "next": LIST})
    assert response.status_code == 302
    tagged = set(CustomerTag.objects.filter(tag=tag).values_list("customer__full_name",
                                                                 flat=True))
    assert tagged == {"Nguyễn Văn An", "Lê Minh Chi"}


def test_bulk_action_refuses_another_shops_group_and_tag(login, manager, tenant, other_tenant,
                                                         other_manager, shop):
    foreign = make_group(other_tenant, other_manager, name="Của B", kind=GroupKind.FIXED,
                         rule={})
    mine = make_group(tenant, manager, name="Của A", kind=GroupKind.FIXED, rule={})
    foreign_tag = TagFactory(tenant=other_tenant)
    client = login(manager)
    client.post("/admin/customers/groups/bulk/", {"action": "add_tag", "codes": [foreign.pk],
                                                  "tag": TagFactory(tenant=tenant).pk})
    client.post("/admin/customers/groups/bulk/", {"action": "add_tag", "codes": [mine.pk],
                                                  "tag": foreign_tag.pk})
    assert not CustomerTag.objects.filter(tag__tenant=other_tenant).exists()
    with pytest.raises(Exception):  # noqa: B017 - ValidationError from ensure_same_tenant
        services.groups_add_tag(tenant=tenant, actor=manager, groups=[foreign],
                                tag=TagFactory(tenant=tenant))


# --- archive / restore -----------------------------------------------------------------------

def test_archive_and_restore_never_delete(login, manager, tenant, shop,
                                          django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(manager)
    page = client.get(detail(group)).content.decode()
    assert 'data-confirm=' in page and f"{detail(group)}archive/" in page
    response = client.post(f"{detail(group)}archive/")
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.is_archived and member_names(group) == {"Nguyễn Văn An"}
    page = client.get(detail(group)).content.decode()
    assert f"{detail(group)}restore/" in page and f"{detail(group)}edit/" not in page
    # An archived group takes no customer by hand.
    with pytest.raises(Exception):  # noqa: B017 - ValidationError
        services.group_pins_add(tenant=tenant, actor=manager, group=group,
                                customer_ids=[shop["chi"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{detail(group)}restore/")
    group.refresh_from_db()
    assert not group.is_archived
    assert CustomerGroup.objects.filter(pk=group.pk).exists()
    actions = list(AuditLog.objects.filter(object_id=group.pk, object_type="groups.customergroup")
                   .values_list("action", flat=True))
    assert "group.archive" in actions and "group.restore" in actions


# --- the lists made by hand --------------------------------------------------------------------

def test_fixed_list_members_join_and_leave_at_once(login, manager, tenant, shop):
    group = make_group(tenant, manager, name="Quà Tết", kind=GroupKind.FIXED, rule={})
    client = login(manager)
    # Typed as a phone, or picked from the suggestions (the code).
    client.post(f"{detail(group)}pins/add/", {"customer": "0912 000 003"})
    client.post(f"{detail(group)}pins/add/", {"customer": shop["an"].code})
    assert member_names(group) == {"Lê Minh Chi", "Nguyễn Văn An"}
    group.refresh_from_db()
    assert group.member_count == 2 and group.recomputed_version == group.version
    client.post(f"{detail(group)}pins/remove/", {"customer": shop["an"].code})
    assert member_names(group) == {"Lê Minh Chi"}
    history = list(GroupEvent.objects.filter(group=group, customer=shop["an"])
                   .order_by("at", "id").values_list("joined", flat=True))
    assert history == [True, False]
    # Nobody by that phone: a clear message, nothing written.
    response = client.post(f"{detail(group)}pins/add/", {"customer": "0999 999 999"},
                           follow=True)
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"
    assert member_names(group) == {"Lê Minh Chi"}


def test_rule_group_always_include_and_exclude(login, manager, tenant, shop,
                                               django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{detail(group)}pins/add/", {"customer": shop["chi"].code,
                                                  "mode": "include"})
        client.post(f"{detail(group)}pins/add/", {"customer": shop["an"].code,
                                                  "mode": "exclude"})
    assert member_names(group) == {"Lê Minh Chi"}
    pins = dict(GroupPin.objects.filter(group=group).values_list("customer__full_name", "mode"))
    assert pins == {"Lê Minh Chi": PinMode.INCLUDE, "Nguyễn Văn An": PinMode.EXCLUDE}
    page = client.get(detail(group)).content.decode()
    assert 'data-testid="pins-include"' in page and 'data-testid="pins-exclude"' in page
    # Taking An off the exclude list lets the conditions decide again.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{detail(group)}pins/remove/", {"customer": shop["an"].code})
    assert member_names(group) == {"Lê Minh Chi", "Nguyễn Văn An"}


def test_pins_refuse_another_shops_customer(tenant, other_tenant, manager, shop):
    group = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    stranger = buyer(other_tenant, "Khách Shop B", "0912000009")
    with pytest.raises(Exception):  # noqa: B017 - ValidationError
        services.group_pins_add(tenant=tenant, actor=manager, group=group,
                                customer_ids=[stranger.pk])
    assert not GroupPin.objects.exists()


def test_pin_box_suggestions_come_from_the_customer_lookup(login, manager, tenant, shop):
    group = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    page = login(manager).get(detail(group)).content.decode()
    assert "/admin/customers/lookup/" in page and 'list="pin-options"' in page


# --- the group page and "Vì sao?" ----------------------------------------------------------

def test_group_page_is_the_customer_list_of_the_members(login, manager, tenant, shop,
                                                        django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(manager)
    response = client.get(detail(group))
    body = response.content.decode()
    assert "Nguyễn Văn An" in body and "Trần Thị Bình" not in body
    assert 'data-testid="group-conditions"' in body
    assert "Tổng chi tiêu ≥ 1.500.000 ₫" in body  # rule_describe
    assert 'id="bulk-form"' in body  # the list's bulk actions
    assert f"/admin/customers/groups/{group.pk}/why/{shop['an'].code}/" in body
    # The search stays within the group (the table's htmx request comes back here).
    table = client.get(detail(group), {"q": "Bình"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Trần Thị Bình" not in table and "<html" not in table
    count = client.get(detail(group), {"_panel": "count"}, HTTP_HX_REQUEST="true")
    assert count.context["count"] == 1


def test_recompute_button_and_progress(login, manager, tenant, shop,
                                       django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(manager)
    CustomerGroup.objects.filter(pk=group.pk).update(recompute_state=RecomputeState.RUNNING)
    status = client.get(f"{detail(group)}status/", {"poll": "1"}, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in status.content.decode()
    assert "HX-Refresh" not in status
    CustomerGroup.objects.filter(pk=group.pk).update(recompute_state=RecomputeState.IDLE)
    status = client.get(f"{detail(group)}status/", {"poll": "1"}, HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"  # done: the page reloads its members
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{detail(group)}recompute/")
    assert response.status_code == 302
    assert group.runs.count() == 2


def test_why_on_the_group_page_and_the_profile_tab(login, manager, tenant, shop,
                                                   django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(manager)
    why = client.get(f"{detail(group)}why/{shop['binh'].code}/",
                     HTTP_HX_REQUEST="true").content.decode()
    # Bình: 2 orders ✓, spend 1.200.000 ₫ against ≥ 1.500.000 ₫ ✗.
    assert "Tổng chi tiêu ≥ 1.500.000 ₫" in why and "1.200.000 ₫" in why
    assert why.count("✓") == 1 and why.count("✗") == 1
    assert "<html" not in why
    # The page version, for a link opened in a new tab.
    assert "<html" in client.get(f"{detail(group)}why/{shop['binh'].code}/").content.decode()
    # An's profile tab: the group, when An joined, and "Vì sao?".
    tab = client.get(f"/admin/customers/{shop['an'].code}/groups/").content.decode()
    assert "Khách mới" in tab and 'data-testid="customer-group"' in tab
    assert f"/admin/customers/groups/{group.pk}/why/{shop['an'].code}/" in tab
    why = client.get(f"{detail(group)}why/{shop['an'].code}/",
                     HTTP_HX_REQUEST="true").content.decode()
    assert why.count("✓") == 2 and "✗" not in why
    # Pins read as words.
    services.group_pins_add(tenant=tenant, actor=manager, group=group,
                            customer_ids=[shop["binh"].pk], mode=PinMode.INCLUDE)
    why = client.get(f"{detail(group)}why/{shop['binh'].code}/",
                     HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="why-pin"' in why
    # A customer without groups: the empty state.
    tab = client.get(f"/admin/customers/{shop['chi'].code}/groups/",
                     HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="customer-groups-empty"' in tab


def test_why_shows_the_history_of_a_customer_who_left(login, manager, tenant, shop,
                                                      django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    services.group_pins_add(tenant=tenant, actor=manager, group=group,
                            customer_ids=[shop["an"].pk])
    services.group_pins_remove(tenant=tenant, actor=manager, group=group,
                               customer_ids=[shop["an"].pk])
    client = login(manager)
    tab = client.get(f"/admin/customers/{shop['an'].code}/groups/").content.decode()
    assert "Quà" in tab and 'data-testid="customer-groups-empty"' not in tab
    why = client.get(f"{detail(group)}why/{shop['an'].code}/",
                     HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="why-events"' in why


# --- who may see, who may manage ----------------------------------------------------------

def test_staff_see_groups_but_do_not_manage_them(login, manager, staff, tenant, shop,
                                                 django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(staff)
    page = client.get(LIST).content.decode()
    assert "Khách mới" in page and NEW not in page and 'id="bulk-form"' not in page
    page = client.get(detail(group)).content.decode()
    assert f"{detail(group)}edit/" not in page and f"{detail(group)}archive/" not in page
    assert f"{detail(group)}recompute/" not in page and 'data-testid="pin-form"' not in page
    assert client.get(f"/admin/customers/{shop['an'].code}/groups/").status_code == 200
    for url in (NEW, f"{detail(group)}edit/"):
        assert client.get(url).status_code == 403
    for url in (NEW, COUNT, "/admin/customers/groups/bulk/", f"{detail(group)}edit/",
                f"{detail(group)}archive/", f"{detail(group)}restore/",
                f"{detail(group)}recompute/", f"{detail(group)}pins/add/",
                f"{detail(group)}pins/remove/"):
        assert client.post(url, {"name": "X", "customer": shop["chi"].code}).status_code == 403
    group.refresh_from_db()
    assert not group.is_archived and not GroupPin.objects.exists()
    with pytest.raises(AccessDenied):
        services.group_archive(tenant=tenant, actor=staff, group=group)


def test_staff_who_see_only_theirs_see_only_their_members(login, manager, staff, tenant, shop,
                                                          django_capture_on_commit_callbacks):
    tenant.staff_see_own_customers_only = True
    tenant.save()
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(staff)
    body = client.get(detail(group)).content.decode()
    assert "Nguyễn Văn An" not in body  # a member, not theirs
    assert client.get(f"{detail(group)}why/{shop['an'].code}/").status_code == 404


def test_collaborators_cannot_open_groups(login, manager, collaborator, tenant, shop):
    group = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    customer_services.customer_assign(tenant=tenant, actor=SYSTEM, customer=shop["an"],
                                      staff=None, collaborator=collaborator)
    client = login(collaborator)
    for url in (LIST, detail(group), f"{detail(group)}status/",
                f"{detail(group)}why/{shop['an'].code}/",
                f"/admin/customers/{shop['an'].code}/groups/"):
        assert client.get(url).status_code == 403, url
    profile = client.get(f"/admin/customers/{shop['an'].code}/").content.decode()
    assert f"/admin/customers/{shop['an'].code}/groups/" not in profile
    assert LIST not in profile  # nor in the sidebar


def test_another_shops_group_is_a_404(login, other_manager, manager, tenant, shop):
    group = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    client = login(other_manager)
    for url in (detail(group), f"{detail(group)}edit/", f"{detail(group)}status/"):
        assert client.get(url).status_code == 404
    assert client.post(f"{detail(group)}archive/").status_code == 404
    assert "Quà" not in client.get(LIST).content.decode()


def test_the_sidebar_has_nhom_kh_after_khach_hang(login, manager, staff, collaborator):
    from crm.navigation import nav_for

    keys = [item["url"] for item in nav_for(manager, LIST)]
    assert keys.index(LIST) == keys.index("/admin/customers/") + 1
    assert [i["url"] for i in nav_for(manager, LIST) if i["active"]] == [LIST]
    assert [i["url"] for i in nav_for(manager, "/admin/customers/KH000001/groups/")
            if i["active"]] == ["/admin/customers/"]
    assert LIST in [i["url"] for i in nav_for(staff, "/admin/")]
    assert LIST not in [i["url"] for i in nav_for(collaborator, "/admin/")]


# --- query counts --------------------------------------------------------------------------

def _queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_group_list_queries_do_not_grow_with_the_groups(login, manager, tenant, shop):
    client = login(manager)
    make_group(tenant, manager, name="Nhóm 0", kind=GroupKind.FIXED, rule={})
    client.get(LIST)  # the session's first page fills caches once
    few = _queries(client, LIST)
    for i in range(1, 12):
        group = make_group(tenant, manager, name=f"Nhóm {i}", kind=GroupKind.FIXED, rule={})
        services.group_pins_add(tenant=tenant, actor=manager, group=group,
                                customer_ids=[shop["an"].pk])
    assert _queries(client, LIST) == few == 6


def test_group_page_queries_do_not_grow_with_the_members(login, manager, tenant, shop):
    group = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    services.group_pins_add(tenant=tenant, actor=manager, group=group,
                            customer_ids=[shop["an"].pk])
    client = login(manager)
    client.get(detail(group))  # the session's first page fills caches once
    one = _queries(client, detail(group))
    for i in range(8):
        extra = buyer(tenant, f"Khách {i}", f"09130000{i:02d}", 100_000)
        services.group_pins_add(tenant=tenant, actor=manager, group=group,
                                customer_ids=[extra.pk])
    assert _queries(client, detail(group)) == one
    # The customer list's own queries (whatever other apps add to it), and three more: the
    # group, its pins and its last run.
    client.get("/admin/customers/")
    assert one == _queries(client, "/admin/customers/") + 3
    table = _queries(client, detail(group), HTTP_HX_REQUEST="true")
    assert table < one


def test_a_rule_cannot_read_its_own_group(login, manager, tenant, shop,
                                          django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    other = make_group(tenant, manager, name="Quà", kind=GroupKind.FIXED, rule={})
    client = login(manager)
    catalog = client.get(f"{detail(group)}edit/").context["catalog"]
    offered = next(f for f in catalog if f["key"] == "group")["choices"]
    assert [c["value"] for c in offered] == [other.pk]
    selfish = {"conditions": [{"field": "group", "op": "in", "value": [group.pk]}]}
    response = client.post(f"{detail(group)}edit/", {"name": "Khách mới",
                                                     "rule": json.dumps(selfish)})
    assert response.status_code == 200 and response.context["form"].errors["rule"]
    group.refresh_from_db()
    assert group.rule == KHACH_MOI
    # Another group's members are a fine condition.
    with django_capture_on_commit_callbacks(execute=True):
        services.group_update(tenant=tenant, actor=manager, group=group, data={
            "rule": {"conditions": [{"field": "group", "op": "in", "value": [other.pk]}]}})
    assert member_names(group) == set()


def test_the_customer_list_filters_by_group(login, manager, tenant, shop,
                                            django_capture_on_commit_callbacks):
    group = make_group(tenant, manager, capture=django_capture_on_commit_callbacks)
    client = login(manager)
    assert f"/admin/customers/?group={group.pk}" in client.get(detail(group)).content.decode()
    body = client.get("/admin/customers/", {"group": group.pk}).content.decode()
    assert "Nguyễn Văn An" in body and "Trần Thị Bình" not in body
