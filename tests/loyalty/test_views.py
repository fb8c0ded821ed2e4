"""The loyalty screens: the profile card's rows, "Cập nhật điểm" (dialog and page), the Điểm
tab with its running balance and "Xem thêm", the Tích điểm page (terms, tiers and their
customers, the nightly check, the shop's ledger with filters), the program's settings and
the tier forms; who may see and who may write; another shop's objects; query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access import SYSTEM
from crm.models import AuditLog
from customers.services import customer_create
from loyalty import services
from loyalty.models import EntryKind, LoyaltyAccount, LoyaltyProgram, PointEntry, Tier
from tests.customers.factories import SourceFactory
from tests.loyalty.factories import give, program_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts(empty_cache):
    """The Tích điểm page keeps its customers per tier a few minutes in the cache: each test
    starts without another test's counts (ids repeat between tests on SQLite)."""

PROGRAM = "/admin/loyalty/"
SETTINGS = "/admin/loyalty/settings/"
TIER_NEW = "/admin/loyalty/tiers/new/"


def make(tenant, name="Nguyễn Văn An", phone="0912000001"):
    return customer_create(tenant=tenant, actor=SYSTEM,
                           data={"full_name": name, "phone": phone})


def tab(customer) -> str:
    return f"/admin/loyalty/customer/{customer.code}/"


def adjust(customer) -> str:
    return f"/admin/loyalty/customer/{customer.code}/update/"


def today() -> str:
    return timezone.localdate().strftime("%d/%m/%Y")


def balance(customer) -> int:
    return LoyaltyAccount.objects.filter(customer=customer).values_list(
        "balance", flat=True).first() or 0


def queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def an(tenant):
    program_on(tenant)
    return make(tenant)


# --- the profile card ------------------------------------------------------------------------

def test_the_card_shows_tier_and_points_only_when_the_program_is_on(login, manager, tenant):
    customer = make(tenant)
    client = login(manager)
    body = client.get(f"/admin/customers/{customer.code}/").content.decode()
    assert 'data-testid="loyalty-points"' not in body
    assert 'data-testid="points-adjust"' not in body
    program_on(tenant)
    give(tenant, customer, 1_250)
    body = client.get(f"/admin/customers/{customer.code}/").content.decode()
    assert 'data-testid="loyalty-tier"' in body
    assert 'data-testid="points-balance">1.250<' in body
    assert 'data-testid="tier-badge">Bạc<' in body  # 1.250 lifetime points reach Bạc
    assert f'href="{adjust(customer)}"' in body  # the button, also a plain link
    # The Điểm tab is listed now.
    assert f'href="{tab(customer)}"' in body


def test_a_customer_without_points_holds_the_base_tier_and_staff_have_no_button(
        login, staff, tenant, an):
    body = login(staff).get(f"/admin/customers/{an.code}/").content.decode()
    assert 'data-testid="points-balance">0<' in body
    assert 'data-testid="tier-badge">Đồng<' in body
    assert 'data-testid="points-adjust"' not in body


def test_without_tiers_the_card_shows_a_dash(login, manager, tenant, an):
    Tier.objects.filter(tenant=tenant).delete()
    body = login(manager).get(f"/admin/customers/{an.code}/").content.decode()
    tier_row = body.split('data-testid="loyalty-tier"')[1].split("</div>")[0]
    assert "—" in tier_row


# --- "Cập nhật điểm" -------------------------------------------------------------------------

def test_the_form_comes_as_a_dialog_fragment_or_as_a_page(login, manager, an):
    client = login(manager)
    fragment = client.get(adjust(an), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "<html" not in text and 'data-testid="points-adjust-form"' in text
    assert 'class="modal-body"' in text
    assert f'value="{today()}"' in text  # the date of use is today unless changed
    page = client.get(adjust(an)).content.decode()
    assert "<html" in page and 'class="card-body"' in page


def test_manager_adds_points_typed_with_dots(login, manager, tenant, an):
    client = login(manager)
    response = client.post(adjust(an), {"direction": "add", "delta": "1.500",
                                        "effective_date": today(), "reason": "Tặng sinh nhật"},
                           follow=True)
    assert response.redirect_chain[-1][0] == tab(an)
    assert balance(an) == 1_500
    entry = PointEntry.objects.get(customer=an)
    assert (entry.kind, entry.delta, entry.reason, entry.actor) == (
        EntryKind.MANUAL, 1_500, "Tặng sinh nhật", manager.user)
    assert entry.effective_date == timezone.localdate()
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and "1.500" in shown[0]
    assert AuditLog.objects.filter(action="points.adjust", object_id=an.pk).exists()
    # The page it lands on: the Điểm tab with the row and the new balance on the card.
    body = response.content.decode()
    assert 'data-testid="points-balance">1.500<' in body
    assert "Tặng sinh nhật" in body and 'data-testid="ledger-row"' in body


def test_in_the_dialog_success_reloads_the_points_tab(login, manager, tenant, an):
    give(tenant, an, 2_000)
    response = login(manager).post(
        adjust(an), {"direction": "subtract", "delta": "750", "effective_date": "01/01/2026",
                     "reason": "Khách đổi quà"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == tab(an)
    assert balance(an) == 1_250
    entry = PointEntry.objects.filter(customer=an).latest("id")
    assert entry.delta == -750 and entry.effective_date == datetime.date(2026, 1, 1)


@pytest.mark.parametrize(("data", "field"), [
    ({"delta": "abc"}, "delta"),
    ({"delta": "0"}, "delta"),
    ({"delta": "-5"}, "delta"),
    ({"delta": "1,5"}, "delta"),
    ({"delta": "20.000.000"}, "delta"),  # above the most a hand may type at once
    ({"reason": "  "}, "reason"),
    ({"effective_date": "31/02/2026"}, "effective_date"),
    ({"effective_date": "2026-13-01"}, "effective_date"),
    ({"direction": "double"}, "direction"),
])
def test_bad_input_is_shown_on_its_box_and_writes_nothing(login, manager, an, data, field):
    post = {"direction": "add", "delta": "100", "effective_date": today(), "reason": "Bù"}
    post.update(data)
    response = login(manager).post(adjust(an), post, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Redirect" not in response
    assert response.context["form"].errors[field]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not PointEntry.objects.exists()


def test_the_services_refusals_land_on_the_form(login, manager, tenant, an):
    give(tenant, an, 300)
    client = login(manager)
    # More than the balance: refused on the points box, nothing written.
    response = client.post(adjust(an), {"direction": "subtract", "delta": "500",
                                        "effective_date": today(), "reason": "Đổi quà"})
    assert response.status_code == 200
    assert "300" in " ".join(response.context["form"].errors["delta"])
    # A date in the future: the service's refusal on the date box.
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    response = client.post(adjust(an), {"direction": "add", "delta": "5",
                                        "effective_date": tomorrow, "reason": "Bù"})
    assert response.context["form"].errors["effective_date"]
    assert PointEntry.objects.filter(customer=an).count() == 1 and balance(an) == 300


def test_with_the_program_off_the_form_says_so_and_writes_nothing(login, manager, tenant, an):
    services.program_save(tenant=tenant, actor=SYSTEM, data={"enabled": False})
    response = login(manager).post(adjust(an), {"direction": "add", "delta": "5",
                                                "effective_date": today(), "reason": "Bù"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not PointEntry.objects.exists()


@pytest.mark.parametrize("role", ["staff", "collaborator"])
def test_staff_and_collaborators_cannot_update_points(login, request, tenant, an, role):
    member = request.getfixturevalue(role)
    an.collaborator = member if role == "collaborator" else None  # they may see the customer
    an.save(update_fields=["collaborator"])
    client = login(member)
    assert client.get(adjust(an)).status_code == 403
    response = client.post(adjust(an), {"direction": "add", "delta": "500",
                                        "effective_date": today(), "reason": "Tự cộng"})
    assert response.status_code == 403
    assert not PointEntry.objects.exists() and balance(an) == 0
    # They may still read the tab (points.view).
    assert client.get(tab(an)).status_code == 200


def test_another_shops_customer_is_a_404(login, other_manager, tenant, an):
    program_on(other_manager.tenant)
    client = login(other_manager)
    assert client.get(tab(an)).status_code == 404
    assert client.get(adjust(an)).status_code == 404
    response = client.post(adjust(an), {"direction": "add", "delta": "5",
                                        "effective_date": today(), "reason": "Bù"})
    assert response.status_code == 404
    assert not PointEntry.objects.exists()


# --- the Điểm tab ----------------------------------------------------------------------------

def test_the_tab_shows_the_ledger_newest_first_with_the_balance_after_each(
        login, manager, tenant, an):
    give(tenant, an, 500, reason="Lần một")
    give(tenant, an, -200, reason="Lần hai")
    give(tenant, an, 900, reason="Lần ba")
    response = login(manager).get(tab(an), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    rows = response.context["ledger"]["entries"]
    assert [(e.reason, e.delta, e.balance_after) for e in rows] == [
        ("Lần ba", 900, 1_200), ("Lần hai", -200, 300), ("Lần một", 500, 500)]
    assert body.index("Lần ba") < body.index("Lần hai") < body.index("Lần một")
    assert 'data-testid="ledger-delta">+900<' in body
    assert 'data-testid="ledger-delta">-200<' in body
    assert 'data-testid="ledger-balance">1.200<' in body
    assert 'data-testid="ledger-more"' not in body
    # 1.200 lifetime points: Bạc reached; 3.800 more to Vàng.
    progress = response.context["progress"]
    assert (progress.tier.name, progress.remaining, progress.by_spend) == ("Vàng", 3_800, False)
    assert 'data-testid="tier-progress"' in body and "3.800" in body


def test_progress_to_the_next_tier_from_zero(login, manager, tenant, an):
    give(tenant, an, 250)
    progress = login(manager).get(tab(an)).context["progress"]
    assert (progress.tier.name, progress.remaining, progress.percent) == ("Bạc", 750, 25)


def test_show_more_brings_the_older_rows_with_their_balances(login, manager, tenant, an):
    for i in range(25):
        give(tenant, an, 10, reason=f"Lượt {i:02d}")
    client = login(manager)
    first = client.get(tab(an), HTTP_HX_REQUEST="true")
    entries = first.context["ledger"]["entries"]
    assert len(entries) == 20 and entries[0].balance_after == 250
    after = first.context["ledger"]["next_before"]
    assert 'data-testid="ledger-more"' in first.content.decode()
    more = client.get(f"{tab(an)}?before={after}", HTTP_HX_REQUEST="true")
    text = more.content.decode()
    assert text.lstrip().startswith("<tr") and "<table" not in text  # rows only
    older = more.context["ledger"]["entries"]
    assert [e.reason for e in older] == [f"Lượt {i:02d}" for i in range(4, -1, -1)]
    assert [e.balance_after for e in older] == [50, 40, 30, 20, 10]
    assert 'data-testid="ledger-more"' not in text
    # Without JavaScript the link opens the tab from there.
    page = client.get(f"{tab(an)}?before={after}")
    assert page.context["older"] and "<html" in page.content.decode()


def test_an_empty_ledger_says_so(login, manager, an):
    body = login(manager).get(tab(an), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="points-empty"' in body and 'class="empty' in body


def test_the_tab_url_works_with_the_program_off_and_says_it_is_off(login, manager, tenant, an):
    give(tenant, an, 40)
    services.program_save(tenant=tenant, actor=SYSTEM, data={"enabled": False})
    client = login(manager)
    response = client.get(tab(an))
    assert response.status_code == 200
    assert 'class="alert alert-warning"' in response.content.decode()
    # The tab is not in the strip any more.
    profile = client.get(f"/admin/customers/{an.code}/").content.decode()
    assert f'href="{tab(an)}"' not in profile


def test_tiers_by_spend_show_the_way_in_dong(login, manager, tenant):
    from orders.services import order_create

    program_on(tenant, tier_basis="spend")
    customer = make(tenant)
    order_create(tenant=tenant, actor=SYSTEM, customer=customer,
                 data={"status": "delivered", "total_amount": 1_000_000,
                       "paid_amount": 1_000_000})
    response = login(manager).get(tab(customer))
    progress = response.context["progress"]
    assert progress.by_spend and progress.tier.name == "Bạc"
    assert progress.remaining == 4_000_000
    assert "4.000.000 ₫" in response.content.decode()


# --- query counts ------------------------------------------------------------------------------

def test_points_tab_query_count_is_pinned(login, manager, tenant, an):
    few, many = an, make(tenant, name="Lê Bình", phone="0912000002")
    give(tenant, few, 5)
    for i in range(30):
        give(tenant, many, 7, reason=f"r{i}")
    client = login(manager)
    client.get("/admin/")
    full = [queries(client, tab(c)) for c in (few, many)]
    fragment = [queries(client, tab(c), HTTP_HX_REQUEST="true") for c in (few, many)]
    assert full[0] == full[1]
    assert fragment[0] == fragment[1]
    # Session, user, memberships; the customer (with its tags, phones, emails: the
    # profile's loader); program, tiers, account, the page of entries.
    assert fragment[0] == 11
    older = PointEntry.objects.filter(customer=many).order_by("-id")[19].pk
    # An older page: one more, the sum of the newer entries' points.
    assert queries(client, f"{tab(many)}?before={older}", HTTP_HX_REQUEST="true") == 12


def test_profile_query_count_with_the_program_on_is_pinned(login, manager, tenant, an):
    give(tenant, an, 1_500)
    client = login(manager)
    client.get("/admin/")
    # The profile's own queries plus the card's rows (program on, the account).
    assert queries(client, f"/admin/customers/{an.code}/") == 12


# --- the Tích điểm page ----------------------------------------------------------------------

@pytest.fixture
def shop(tenant, manager):
    """Program on; An 1.500 points (Bạc), Bình 20, Chi never earned; one manual entry by the
    manager, one by the system."""
    program_on(tenant, expiry_months=12)
    an = make(tenant)
    binh = make(tenant, name="Trần Thị Bình", phone="0912000002")
    chi = make(tenant, name="Lê Minh Chi", phone="0912000003")
    services.points_adjust(tenant=tenant, actor=manager, customer=an, delta=1_500,
                           reason="Khách thân thiết")
    give(tenant, binh, 20, reason="Bù điểm cửa hàng")
    return {"an": an, "binh": binh, "chi": chi}


def test_the_program_page_tells_the_terms_tiers_check_and_ledger(login, manager, tenant, shop):
    services.ledger_verify(tenant=tenant)
    response = login(manager).get(PROGRAM)
    assert response.status_code == 200
    body = response.content.decode()
    assert "10.000 ₫" in body and "1.000 ₫" in body  # earning and the value of a point
    assert response.context["program"].expiry_months == 12
    counts = {row["tier"].name: row["count"] for row in response.context["tier_rows"]}
    assert counts == {"Đồng": 2, "Bạc": 1, "Vàng": 0}  # Chi counts in Đồng
    check = response.context["check"]
    assert check.mismatches == 0 and response.context["check_recent"]
    rows = response.context["result"].page.rows
    assert [r.reason for r in rows] == ["Bù điểm cửa hàng", "Khách thân thiết"]
    assert f'href="/admin/customers/{shop["an"].code}/"' in body  # the name opens the profile
    assert 'data-testid="program-settings"' in body and 'data-testid="tier-add"' in body


def test_the_ledger_check_lists_the_accounts_that_differ(login, manager, tenant, shop):
    # An account moved behind the ledger's back (what the nightly check is for).
    LoyaltyAccount.objects.filter(customer=shop["binh"]).update(balance=99)
    # And one held in a tier its points do not reach (tiers can go down here).
    services.program_save(tenant=tenant, actor=SYSTEM, data={"tiers_can_drop": True})
    LoyaltyAccount.objects.filter(customer=shop["an"]).update(
        tier=Tier.objects.get(tenant=tenant, name="Vàng"))
    services.ledger_verify(tenant=tenant)
    response = login(manager).get(PROGRAM)
    assert response.context["check"].mismatches == 2
    body = response.content.decode()
    details = body.split('data-testid="ledger-check-details"')[1].split("</table>")[0]
    assert shop["binh"].code in details and shop["an"].code in details
    assert "99" in details and "Vàng" in details and "Bạc" in details


@pytest.mark.parametrize(("params", "reasons"), [
    ({"kind": "manual"}, ["Bù điểm cửa hàng", "Khách thân thiết"]),
    ({"kind": "earn"}, []),
    ({"actor": "system"}, ["Bù điểm cửa hàng"]),
    ({"date_from": "01/01/2000", "date_to": "31/12/2000"}, []),
])
def test_the_ledger_filters(login, manager, tenant, shop, params, reasons):
    response = login(manager).get(PROGRAM, params, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'id="ledger-table"' in body  # the table only
    assert [r.reason for r in response.context["result"].page.rows] == reasons


def test_the_staff_filter_lists_the_shops_members_only(login, manager, other_manager, tenant,
                                                       shop):
    response = login(manager).get(PROGRAM, {"actor": str(manager.user_id)})
    assert [r.reason for r in response.context["result"].page.rows] == ["Khách thân thiết"]
    choices = dict(response.context["filter"].form.fields["actor"].choices)
    assert str(manager.user_id) in choices and str(other_manager.user_id) not in choices
    # Another shop's member is no choice: the filter is refused, not applied.
    response = login(manager).get(PROGRAM, {"actor": str(other_manager.user_id)})
    assert response.context["filter"].errors


def test_a_date_filter_in_the_right_range(login, manager, tenant, shop):
    day = timezone.localdate().strftime("%d/%m/%Y")
    response = login(manager).get(PROGRAM, {"date_from": day, "date_to": day})
    assert len(response.context["result"].page.rows) == 2


def test_the_ledger_pages_by_keyset(login, manager, tenant, shop):
    for i in range(30):
        give(tenant, shop["chi"], 1, reason=f"p{i:02d}")
    client = login(manager)
    first = client.get(PROGRAM)
    page = first.context["result"].page
    assert len(page.rows) == 25 and page.next_cursor
    second = client.get(PROGRAM, {"after": page.next_cursor})
    reasons = [r.reason for r in second.context["result"].page.rows]
    assert reasons == ["p04", "p03", "p02", "p01", "p00", "Bù điểm cửa hàng", "Khách thân thiết"]


def test_program_page_query_count_is_pinned(login, manager, tenant, shop):
    from django.core.cache import cache

    client = login(manager)
    client.get("/admin/")
    few = queries(client, PROGRAM)
    counted_once = queries(client, PROGRAM)
    for i in range(20):
        customer = make(tenant, name=f"Khách {i}", phone=f"09130000{i:02d}")
        give(tenant, customer, 1_000 * (i % 7) + 1)
    services.ledger_verify(tenant=tenant)
    cache.clear()
    many = queries(client, PROGRAM)
    # Session, user, memberships; the members of the staff filter, the page of entries;
    # program, tiers, the distribution (accounts by tier, one COUNT of customers: kept in
    # the cache for the next visits), the latest check, the channels that earn.
    assert few == many == 11
    assert counted_once == 9
    # The table alone (the filters move it): session, user, memberships, members, entries.
    assert queries(client, PROGRAM, HTTP_HX_REQUEST="true") == 5


def test_the_program_page_is_for_managers(login, staff, collaborator, tenant, shop):
    for member in (staff, collaborator):
        assert login(member).get(PROGRAM).status_code == 403


def test_an_owner_sees_a_shop_without_program(login, owner, tenant):
    response = login(owner).get(PROGRAM)
    assert response.status_code == 200
    assert not response.context["program"].enabled and not response.context["tier_rows"]
    assert 'data-testid="program-status"' in response.content.decode()


# --- the program's settings ------------------------------------------------------------------

def settings_post(**changes):
    data = {"enabled": "on", "earn_amount": "10k", "point_value": "1.000",
            "expiry_months": "", "tier_basis": "points"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_manager_switches_the_program_on_with_its_terms(login, manager, tenant, lists):
    shopee = lists["sources"].filter(parent__isnull=False).first()
    client = login(manager)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    channel_ids = {c for c, _label in page.context["form"].fields["earn_channels"].choices}
    assert shopee.pk in {getattr(c, "value", c) for c in channel_ids}
    response = client.post(SETTINGS, settings_post(earn_amount="20.000", point_value="500",
                                                   expiry_months="6",
                                                   earn_channels=[shopee.pk],
                                                   tiers_can_drop="on"))
    assert response.status_code == 302 and response.url == PROGRAM
    program = LoyaltyProgram.objects.get(tenant=tenant)
    assert (program.enabled, program.earn_amount, program.point_value, program.expiry_months,
            program.tiers_can_drop) == (True, 20_000, 500, 6, True)
    assert list(program.earn_channels.all()) == [shopee]
    assert list(Tier.objects.filter(tenant=tenant).values_list("name", flat=True)) == [
        "Đồng", "Bạc", "Vàng"]
    assert AuditLog.objects.filter(action="loyalty.settings").exists()
    # The form opens with what was saved.
    form = client.get(SETTINGS).context["form"]
    assert form["earn_amount"].value() == 20_000 and form["expiry_months"].value() == 6


@pytest.mark.parametrize(("changes", "field"), [
    ({"earn_amount": "abc"}, "earn_amount"),
    ({"earn_amount": "0"}, "earn_amount"),
    ({"earn_amount": ""}, "earn_amount"),
    ({"point_value": "-1.000"}, "point_value"),
    ({"expiry_months": "0"}, "expiry_months"),
    ({"expiry_months": "mười"}, "expiry_months"),
    ({"tier_basis": "moon"}, "tier_basis"),
])
def test_bad_settings_are_refused_and_change_nothing(login, manager, tenant, changes, field):
    response = login(manager).post(SETTINGS, settings_post(**changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not LoyaltyProgram.objects.filter(tenant=tenant).exists()


def test_another_shops_channel_is_no_choice(login, manager, tenant, other_tenant):
    theirs = SourceFactory(tenant=other_tenant, parent=SourceFactory(tenant=other_tenant))
    response = login(manager).post(SETTINGS, settings_post(earn_channels=[theirs.pk]))
    assert response.status_code == 200 and response.context["form"].errors["earn_channels"]
    assert not LoyaltyProgram.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize("role", ["staff", "collaborator"])
def test_only_managers_change_the_program(login, request, tenant, role):
    member = request.getfixturevalue(role)
    client = login(member)
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, settings_post()).status_code == 403
    assert client.post(TIER_NEW, {"name": "Kim cương", "threshold": "9.000",
                                  "color": "#000000"}).status_code == 403
    assert not LoyaltyProgram.objects.exists() and not Tier.objects.exists()


# --- tiers -------------------------------------------------------------------------------------

def test_add_edit_and_remove_a_tier(login, manager, tenant):
    program_on(tenant)
    client = login(manager)
    page = client.get(TIER_NEW)
    assert page.status_code == 200
    assert page.context["form"].fields["threshold"].widget.attrs["class"] == "form-control"
    response = client.post(TIER_NEW, {"name": "Kim cương", "threshold": "10.000",
                                      "color": "#1e90ff"})
    assert response.status_code == 302 and response.url == PROGRAM
    tier = Tier.objects.get(tenant=tenant, name="Kim cương")
    assert tier.threshold == 10_000
    edit = f"/admin/loyalty/tiers/{tier.pk}/"
    assert client.get(edit).context["form"]["threshold"].value() == 10_000
    client.post(edit, {"name": "Kim Cương", "threshold": "12.000", "color": "#1e90ff"})
    tier.refresh_from_db()
    assert (tier.name, tier.threshold) == ("Kim Cương", 12_000)
    assert client.get(f"{edit}delete/").status_code == 405
    response = client.post(f"{edit}delete/")
    assert response.status_code == 302 and not Tier.objects.filter(pk=tier.pk).exists()
    # The delete button asks first (the project's confirm dialog).
    body = client.get(PROGRAM).content.decode()
    assert "data-confirm=" in body


def test_a_tier_threshold_taken_or_unreadable_is_refused(login, manager, tenant):
    program_on(tenant)
    client = login(manager)
    response = client.post(TIER_NEW, {"name": "Bạch kim", "threshold": "1.000",
                                      "color": "#cccccc"})  # Bạc starts there
    assert response.status_code == 200 and response.context["form"].errors["threshold"]
    response = client.post(TIER_NEW, {"name": "bạc", "threshold": "2.000", "color": "#cccccc"})
    assert response.context["form"].errors["name"]
    response = client.post(TIER_NEW, {"name": "X", "threshold": "1,5", "color": "red"})
    assert set(response.context["form"].errors) == {"threshold", "color"}
    assert Tier.objects.filter(tenant=tenant).count() == 3


def test_tiers_by_spend_take_and_show_money(login, manager, tenant):
    program_on(tenant, tier_basis="spend")
    client = login(manager)
    client.post(TIER_NEW, {"name": "Kim cương", "threshold": "50tr", "color": "#1e90ff"})
    assert Tier.objects.get(name="Kim cương").threshold == 50_000_000
    body = client.get(PROGRAM).content.decode()
    assert "50.000.000 ₫" in body and "5.000.000 ₫" in body
    assert "5.000.000 ₫" in client.get(SETTINGS).content.decode()


def test_another_shops_tier_is_a_404(login, other_manager, tenant):
    program_on(tenant)
    tier = Tier.objects.filter(tenant=tenant).first()
    client = login(other_manager)
    assert client.get(f"/admin/loyalty/tiers/{tier.pk}/").status_code == 404
    assert client.post(f"/admin/loyalty/tiers/{tier.pk}/",
                       {"name": "Hack", "threshold": "1", "color": "#000000"}).status_code == 404
    assert client.post(f"/admin/loyalty/tiers/{tier.pk}/delete/").status_code == 404
    assert Tier.objects.filter(pk=tier.pk, name=tier.name).exists()


def test_customers_per_tier_are_counted_again_after_a_tier_change(
        tenant, django_capture_on_commit_callbacks):
    from loyalty import selectors

    program_on(tenant, tiers_can_drop=True)
    give(tenant, make(tenant, name="Khách Bạc", phone="0913999001"), 1_500)

    def counts():
        return {row["tier"].name: row["count"]
                for row in selectors.tier_distribution(tenant) if row["tier"]}

    assert counts() == {"Đồng": 0, "Bạc": 1, "Vàng": 0}
    silver = Tier.objects.get(tenant=tenant, name="Bạc")
    with django_capture_on_commit_callbacks(execute=True):
        services.tier_save(tenant=tenant, actor=SYSTEM, tier=silver,
                           data={"name": "Bạc", "threshold": 2_000, "color": silver.color})
    assert counts() == {"Đồng": 1, "Bạc": 0, "Vàng": 0}
