"""The point ledger (loyalty.services): earning, using and giving back points with the order
events, "Cập nhật điểm", merges, expiry, tiers, the ledger check, and who may do what. The
ledger is the truth: every test ends with every account equal to the sum of its entries.
PostgreSQL-only behaviour (row locks, the append-only trigger) is in test_ledger_pg.py."""

import datetime
import random

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from crm.access import SYSTEM, AccessDenied
from crm.models import AuditLog
from customers.services import customers_merge
from loyalty import services
from loyalty.models import (
    AppendOnlyError,
    LedgerCheck,
    LoyaltyAccount,
    OrderPoints,
    PointEntry,
    Tier,
    TierChange,
)
from orders import services as orders
from orders.models import Order
from orders.stats import NOTHING, contribution
from tests.customers.factories import SourceFactory
from tests.loyalty.factories import (
    account,
    balance,
    customer,
    give,
    ledger,
    order,
    program_on,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def fresh(o) -> Order:
    return Order.objects.get(pk=o.pk)


def assert_ledger_exact(tenant):
    """Every account is the sum of its ledger, never negative, in a tier its lifetime
    points allow; the nightly check agrees."""
    program = services.program_of(tenant)
    tiers = services.tiers_of(tenant)
    sums = {row["customer_id"]: row for row in PointEntry.objects.for_tenant(tenant)
            .values("customer_id").annotate(b=Sum("delta"), lt=Sum("lifetime_delta"))}
    for a in LoyaltyAccount.objects.filter(tenant=tenant).select_related("tier"):
        row = sums.pop(a.customer_id, {"b": 0, "lt": 0})
        assert (a.balance, a.lifetime) == (row["b"], row["lt"]), a
        assert a.balance >= 0 and a.lifetime >= 0
        if program.tier_basis == "points" and tiers:
            reached = services.tier_for(tiers, a.lifetime)
            if program.tiers_can_drop:
                assert a.tier == reached, (a, a.tier, reached)
            else:
                assert a.tier is not None and a.tier.threshold >= reached.threshold
    assert not sums, f"entries without an account: {sums}"
    check = services.ledger_verify(tenant=tenant)
    assert check.mismatches == 0, check.details


# --- earning --------------------------------------------------------------------------------

def test_a_delivered_paid_order_earns_once_rounded_down(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=1_234_567)
    assert ledger(c) == [("earn", 123, 123)]
    entry = PointEntry.objects.get(customer=c)
    assert entry.order_id == o.pk and entry.effective_date == timezone.localdate(o.delivered_at)
    assert "DH000001" in entry.reason
    # The same event seen again (a retried receiver) writes nothing.
    o = fresh(o)
    now = contribution(o)
    assert services.points_follow_order(tenant=tenant, order=o, before=now, after=now) == []
    services.points_follow_order(tenant=tenant, order=o, before=NOTHING, after=now)
    assert ledger(c) == [("earn", 123, 123)]
    assert OrderPoints.objects.get(order=o).earned == 123
    assert_ledger_exact(tenant)


def test_payments_on_a_delivered_order_earn_the_difference(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=1_000_000, paid=0)
    assert ledger(c) == [] and OrderPoints.objects.get(order=o).earn_amount == 10_000
    orders.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=255_000)
    orders.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=5_000)
    orders.order_record_payment(tenant=tenant, actor=SYSTEM, order=o, amount=740_000)
    assert ledger(c) == [("earn", 25, 25), ("earn", 1, 1), ("earn", 74, 74)]
    assert balance(c) == 100
    # Goods worth 100.000 come back: the points of what the order no longer sells go; the
    # refund of the money paid for them moves nothing more.
    orders.order_return(tenant=tenant, actor=SYSTEM, order=fresh(o), amount=100_000)
    assert ledger(c)[-1] == ("reversal", -10, -10)
    orders.order_refund(tenant=tenant, actor=SYSTEM, order=fresh(o), amount=100_000)
    assert len(ledger(c)) == 4 and balance(c) == 90
    assert_ledger_exact(tenant)


def test_a_paid_order_earns_when_it_is_delivered_at_the_rate_of_that_day(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=500_000, status="shipping")
    assert ledger(c) == [] and not OrderPoints.objects.exists()
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="delivered")
    assert ledger(c) == [("earn", 50, 50)]
    # The rate changes later: a return reverses at the order's own rate.
    program_on(tenant, earn_amount=1_000)
    orders.order_return(tenant=tenant, actor=SYSTEM, order=fresh(o), amount=100_000)
    assert ledger(c)[-1] == ("reversal", -10, -10)
    assert_ledger_exact(tenant)


def test_only_the_chosen_channels_earn(tenant):
    web, shop = SourceFactory(tenant=tenant, name="Web"), SourceFactory(tenant=tenant, name="Quầy")
    program_on(tenant, channels=[web])
    c = customer(tenant)
    order(tenant, c, total=300_000, channel=shop)
    assert ledger(c) == []
    order(tenant, c, total=300_000, channel=web)
    assert ledger(c) == [("earn", 30, 30)]
    assert_ledger_exact(tenant)


def test_an_order_without_points_or_program_writes_nothing(tenant):
    c = customer(tenant)
    o = order(tenant, c)
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="cancelled")
    assert not PointEntry.objects.exists() and not LoyaltyAccount.objects.exists()
    assert not OrderPoints.objects.exists()


# --- returns, cancellations, re-deliveries ---------------------------------------------------

def test_returns_reverse_what_they_take_away(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=1_000_000)
    orders.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=250_000)
    assert ledger(c)[-1] == ("reversal", -25, -25)
    entry = PointEntry.objects.filter(customer=c).last()
    assert "returned" in entry.reason.lower() or "trả" in entry.reason.lower()
    orders.order_return(tenant=tenant, actor=SYSTEM, order=fresh(o), amount=750_000)
    assert fresh(o).status == "returned"
    assert ledger(c)[-1] == ("reversal", -75, -75) and balance(c) == 0
    assert_ledger_exact(tenant)


def test_a_return_after_the_points_were_used_takes_what_is_left(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=1_000_000)  # +100
    order(tenant, c, total=200_000, status="new", points_redeemed=80)  # -80: 20 left
    orders.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=1_000_000)
    entry = PointEntry.objects.filter(customer=c).last()
    assert (entry.kind, entry.delta, entry.lifetime_delta) == ("reversal", -20, -100)
    assert "80" in entry.reason  # the rest is noted: 80 points were already used
    a = account(c)
    assert (a.balance, a.lifetime) == (0, 0)
    assert_ledger_exact(tenant)


def test_cancel_after_delivery_reverses_and_a_re_delivery_earns_exactly_once(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=600_000)
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="cancelled")
    assert ledger(c) == [("earn", 60, 60), ("reversal", -60, -60)]
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="new")
    assert len(ledger(c)) == 2  # not delivered yet: nothing
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="delivered")
    o = fresh(o)
    now = contribution(o)
    services.points_follow_order(tenant=tenant, order=o, before=now, after=now)
    assert ledger(c) == [("earn", 60, 60), ("reversal", -60, -60), ("earn", 60, 60)]
    assert balance(c) == 60
    assert_ledger_exact(tenant)


# --- using points -----------------------------------------------------------------------------

def test_points_used_on_an_order_and_given_back_when_it_is_cancelled(tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 500)
    o = orders.order_create(
        tenant=tenant, actor=SYSTEM, customer=c,
        data={"status": "new", "points_redeemed": 200},
        lines=[{"product_name": "Trà", "quantity": 1, "unit_price": 500_000}])
    assert (o.total_amount, o.points_discount) == (300_000, 200_000)
    assert ledger(c)[-1] == ("redeem", -200, 0) and balance(c) == 300
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="cancelled")
    assert ledger(c)[-1] == ("reversal", 200, 0) and balance(c) == 500
    # Back from cancelled: the points are used again (the balance still covers them).
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="new")
    assert ledger(c)[-1] == ("redeem", -200, 0) and balance(c) == 300
    assert account(c).lifetime == 500  # using points does not lower lifetime points
    assert_ledger_exact(tenant)


def test_using_more_points_than_the_balance_is_refused_and_nothing_is_written(tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 100)
    before = Order.objects.count()
    with pytest.raises(ValidationError) as refused:
        order(tenant, c, total=500_000, status="new", points_redeemed=101)
    assert "points_redeemed" in refused.value.message_dict
    assert "100" in refused.value.message_dict["points_redeemed"][0]
    assert Order.objects.count() == before and ledger(c) == [("manual", 100, 100)]
    assert_ledger_exact(tenant)


def test_a_shop_without_program_refuses_points_on_an_order(tenant):
    c = customer(tenant)
    with pytest.raises(ValidationError):
        order(tenant, c, total=500_000, status="new", points_redeemed=1)
    assert not Order.objects.exists()


# --- linking an order to another customer ----------------------------------------------------

def test_linking_the_order_to_another_customer_moves_its_points(tenant):
    program_on(tenant)
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    give(tenant, a, 100)
    o = order(tenant, a, total=400_000, points_redeemed=30)
    assert balance(a) == 100 + 40 - 30
    give(tenant, b, 50)
    orders.order_link_customer(tenant=tenant, actor=SYSTEM, order=o, customer=b)
    assert ledger(a)[-2:] == [("reversal", -40, -40), ("reversal", 30, 0)]
    assert ledger(b)[-2:] == [("earn", 40, 40), ("redeem", -30, 0)]
    assert (balance(a), balance(b)) == (100, 60)
    assert OrderPoints.objects.get(order=o).customer_id == b.pk
    orders.order_link_customer(tenant=tenant, actor=SYSTEM, order=fresh(o), customer=None)
    assert balance(b) == 50
    assert_ledger_exact(tenant)


# --- the program switched off ----------------------------------------------------------------

def test_program_off_earns_nothing_but_reversals_still_happen(tenant):
    program_on(tenant)
    c = customer(tenant)
    o = order(tenant, c, total=1_000_000, paid=500_000)
    give(tenant, c, 10)
    assert balance(c) == 60
    program_on(tenant, enabled=False)
    order(tenant, c, total=900_000)  # earns nothing
    orders.order_record_payment(tenant=tenant, actor=SYSTEM, order=fresh(o), amount=500_000)
    assert balance(c) == 60  # the rest of the payment earns nothing either
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="cancelled")
    assert ledger(c)[-1] == ("reversal", -50, -50)
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="new")
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="delivered")
    assert balance(c) == 10  # a re-delivery while the program is off earns nothing
    with pytest.raises(ValidationError):
        give(tenant, c, 5)
    assert_ledger_exact(tenant)


# --- Cập nhật điểm ---------------------------------------------------------------------------

def test_points_adjust_writes_an_entry_moves_the_account_and_audits(tenant, manager):
    program_on(tenant)
    c = customer(tenant)
    day = TODAY - datetime.timedelta(days=3)
    posted = services.points_adjust(tenant=tenant, actor=manager, customer=c, delta=250,
                                    effective_date=day, reason="  Tặng sinh nhật ")
    assert posted.account.balance == 250 and posted.entry.actor == manager.user
    assert (posted.entry.kind, posted.entry.effective_date, posted.entry.reason) == (
        "manual", day, "Tặng sinh nhật")
    services.points_adjust(tenant=tenant, actor=manager, customer=c, delta=-50, reason="Sửa")
    assert ledger(c) == [("manual", 250, 250), ("manual", -50, -50)]
    log = AuditLog.objects.filter(action="points.adjust").order_by("id").last()
    assert log.before == {"points": 250} and log.after["points"] == 200
    assert_ledger_exact(tenant)


@pytest.mark.parametrize(("delta", "reason", "day", "field"), [
    (0, "x", None, "delta"),
    (services.MAX_MANUAL + 1, "x", None, "delta"),
    (-1, "x", None, "delta"),  # more than the balance (0)
    (10, "   ", None, "reason"),
    (10, "x", TODAY + datetime.timedelta(days=1), "effective_date"),
])
def test_points_adjust_refusals(tenant, manager, delta, reason, day, field):
    program_on(tenant)
    c = customer(tenant)
    with pytest.raises(ValidationError) as refused:
        services.points_adjust(tenant=tenant, actor=manager, customer=c, delta=delta,
                               effective_date=day, reason=reason)
    assert field in refused.value.message_dict
    assert not PointEntry.objects.exists()
    assert not AuditLog.objects.filter(action="points.adjust").exists()


def test_the_balance_never_goes_negative(tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 30)
    with pytest.raises(ValidationError) as refused:
        give(tenant, c, -31)
    assert "30" in refused.value.message_dict["delta"][0]
    give(tenant, c, -30)
    assert balance(c) == 0
    assert_ledger_exact(tenant)


@pytest.mark.parametrize("role", ["staff", "collaborator"])
def test_a_role_without_the_action_is_refused_and_nothing_is_written(tenant, role, request):
    program_on(tenant)
    c = customer(tenant)
    actor = request.getfixturevalue(role)
    with pytest.raises(AccessDenied):
        services.points_adjust(tenant=tenant, actor=actor, customer=c, delta=10, reason="x")
    assert not PointEntry.objects.exists() and not LoyaltyAccount.objects.exists()
    assert not AuditLog.objects.filter(action="points.adjust").exists()


def test_another_shops_customer_is_refused(tenant, other_tenant, manager, other_manager):
    program_on(tenant)
    program_on(other_tenant)
    theirs = customer(other_tenant)
    with pytest.raises(ValidationError):
        services.points_adjust(tenant=tenant, actor=manager, customer=theirs, delta=10,
                               reason="x")
    with pytest.raises(AccessDenied):  # a manager of the other shop, in this shop
        services.points_adjust(tenant=tenant, actor=other_manager, customer=customer(tenant),
                               delta=10, reason="x")
    with pytest.raises(LoyaltyAccount.DoesNotExist):  # no account made across shops
        services.account_for_update(tenant, theirs.pk)
    assert not PointEntry.objects.exists() and not LoyaltyAccount.objects.exists()


def test_the_ledger_cannot_be_updated_or_deleted_through_the_orm(tenant):
    program_on(tenant)
    c = customer(tenant)
    entry = give(tenant, c, 10).entry
    with pytest.raises(AppendOnlyError):
        PointEntry.objects.filter(pk=entry.pk).update(delta=20)
    with pytest.raises(AppendOnlyError):
        PointEntry.objects.filter(pk=entry.pk).delete()
    entry.delta = 20
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert ledger(c) == [("manual", 10, 10)]


# --- tiers ------------------------------------------------------------------------------------

def tier_name(c) -> str:
    a = account(c)
    return a.tier.name if a and a.tier else ""


def test_tiers_promote_at_their_thresholds_and_never_drop_by_default(tenant):
    program_on(tenant)  # Đồng 0, Bạc 1.000, Vàng 5.000 lifetime points
    c = customer(tenant)
    give(tenant, c, 999)
    assert tier_name(c) == "Đồng"
    give(tenant, c, 1)
    assert tier_name(c) == "Bạc"
    give(tenant, c, 3_999)
    assert tier_name(c) == "Bạc"
    give(tenant, c, 1)
    assert tier_name(c) == "Vàng"
    give(tenant, c, -4_000)  # lifetime 1.001: Bạc reached, Vàng kept
    assert tier_name(c) == "Vàng"
    changes = list(TierChange.objects.filter(customer=c).order_by("id")
                   .values_list("from_name", "to_name", "promoted"))
    assert changes == [("Đồng", "Bạc", True), ("Bạc", "Vàng", True)]
    assert_ledger_exact(tenant)


def test_tiers_go_down_when_the_shop_says_so(tenant):
    program_on(tenant, tiers_can_drop=True)
    c = customer(tenant)
    o = order(tenant, c, total=10_000_000)  # 1.000 points: Bạc
    assert tier_name(c) == "Bạc"
    orders.order_return(tenant=tenant, actor=SYSTEM, order=o, amount=10_000)
    assert tier_name(c) == "Đồng"
    assert TierChange.objects.filter(customer=c).order_by("id").last().promoted is False
    give(tenant, c, 1)
    assert tier_name(c) == "Bạc"
    assert_ledger_exact(tenant)


def test_tiers_by_spend_of_the_last_12_months(tenant):
    program_on(tenant, tier_basis="spend", tiers_can_drop=True)
    assert [t.threshold for t in services.tiers_of(tenant)] == [0, 5_000_000, 20_000_000]
    c = customer(tenant)
    give(tenant, c, 10_000)  # points do not move a tier by spend
    assert tier_name(c) == "Đồng"
    o = order(tenant, c, total=5_000_000, paid=0)  # unpaid: no points, but spend
    assert tier_name(c) == "Bạc" and balance(c) == 10_000
    order(tenant, c, total=15_000_000)
    assert tier_name(c) == "Vàng"
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=o, status="cancelled")
    assert tier_name(c) == "Bạc"
    # A delivery of more than 12 months ago does not count.
    old = customer(tenant, "0912000009")
    order(tenant, old, total=30_000_000,
          delivered_at=timezone.now() - relativedelta(months=13))
    assert tier_name(old) == "Đồng"
    assert_ledger_exact(tenant)


def test_tiers_refresh_after_the_tiers_change(tenant, manager):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 1_500)
    assert tier_name(c) == "Bạc"
    silver = Tier.objects.get(tenant=tenant, name="Bạc")
    services.tier_save(tenant=tenant, actor=manager, tier=silver,
                       data={"name": "Bạc", "threshold": 2_000})
    program_on(tenant, tiers_can_drop=True)
    assert services.tiers_refresh(tenant=tenant) == 1
    assert tier_name(c) == "Đồng"
    assert_ledger_exact(tenant)


# --- merges ---------------------------------------------------------------------------------

def test_a_merge_moves_entries_points_lifetime_and_orders(tenant, manager):
    program_on(tenant)
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    give(tenant, a, 300)
    give(tenant, b, 900)
    o = order(tenant, b, total=1_000_000)  # b: 1.000 lifetime -> Bạc
    order(tenant, b, total=100_000, status="new", points_redeemed=50)
    assert tier_name(b) == "Bạc"
    survivor = customers_merge(tenant=tenant, actor=manager, survivor=a, merged=b)
    acc = account(survivor)
    assert (acc.balance, acc.lifetime) == (300 + 900 + 100 - 50, 1_300)
    assert acc.tier.name == "Bạc"
    assert PointEntry.objects.filter(customer=survivor).count() == 4
    assert not LoyaltyAccount.objects.filter(customer_id=b.pk).exists()
    assert OrderPoints.objects.get(order=o).customer_id == a.pk
    assert TierChange.objects.filter(customer=survivor, to_name="Bạc").exists()
    # The moved order still reverses on the survivor.
    orders.order_set_status(tenant=tenant, actor=SYSTEM, order=fresh(o), status="cancelled")
    assert balance(survivor) == 1_250 - 100
    assert_ledger_exact(tenant)


def test_merging_a_customer_without_points_changes_nothing(tenant, manager):
    program_on(tenant)
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    give(tenant, a, 10)
    customers_merge(tenant=tenant, actor=manager, survivor=a, merged=b)
    assert ledger(a) == [("manual", 10, 10)] and balance(a) == 10
    customers_merge(tenant=tenant, actor=manager, survivor=customer(tenant, "0912000003"),
                    merged=a)
    assert_ledger_exact(tenant)


def test_a_merge_keeps_the_higher_tier_when_tiers_cannot_drop(tenant, manager):
    program_on(tenant)
    a, b = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    give(tenant, b, 6_000)
    give(tenant, b, -5_500)  # lifetime 500, tier Vàng kept
    survivor = customers_merge(tenant=tenant, actor=manager, survivor=a, merged=b)
    assert tier_name(survivor) == "Vàng"
    assert_ledger_exact(tenant)


# --- expiry ---------------------------------------------------------------------------------

def test_expiry_takes_the_oldest_points_first_and_runs_once(tenant):
    program_on(tenant, expiry_months=12)
    c = customer(tenant)
    give(tenant, c, 100, effective_date=TODAY - relativedelta(months=14))
    give(tenant, c, 50, effective_date=TODAY - relativedelta(months=6))
    give(tenant, c, -30)  # used: from the oldest points
    assert services.points_expire(tenant=tenant) == 70
    entry = PointEntry.objects.filter(customer=c).last()
    assert (entry.kind, entry.delta, entry.lifetime_delta) == ("expiry", -70, 0)
    assert balance(c) == 50 and account(c).lifetime == 120
    assert services.points_expire(tenant=tenant) == 0  # idempotent
    # Seven months on, the 50 are past 12 months too.
    later = TODAY + relativedelta(months=7)
    assert services.points_expire(tenant=tenant, today=later) == 50
    assert services.points_expire(tenant=tenant, today=later) == 0
    assert balance(c) == 0
    assert_ledger_exact(tenant)


@pytest.mark.parametrize("batch", [1, 2, 1_000])
def test_expiry_goes_by_batches_of_customers(tenant, batch):
    program_on(tenant, expiry_months=6)
    old = TODAY - relativedelta(months=8)
    people = [customer(tenant, f"09120000{i:02d}") for i in range(5)]
    for i, c in enumerate(people):
        give(tenant, c, 100 * (i + 1), effective_date=old)
        give(tenant, c, 7)  # recent: stays
        if i % 2:
            give(tenant, c, -50)  # used: from the old points
    assert services.points_expire(tenant=tenant, batch=batch) == sum(
        100 * (i + 1) - (50 if i % 2 else 0) for i in range(5))
    assert [balance(c) for c in people] == [7] * 5
    assert services.points_expire(tenant=tenant, batch=batch) == 0
    assert PointEntry.objects.filter(kind="expiry").count() == 5
    assert_ledger_exact(tenant)


def test_no_expiry_without_a_period_or_a_program(tenant):
    program_on(tenant)
    c = customer(tenant)
    give(tenant, c, 100, effective_date=TODAY - relativedelta(years=3))
    assert services.points_expire(tenant=tenant) == 0
    program_on(tenant, enabled=False, expiry_months=12)
    assert services.points_expire(tenant=tenant) == 0
    assert balance(c) == 100


# --- the ledger check -----------------------------------------------------------------------

def test_the_check_reports_an_account_that_differs_and_does_not_fix_it(tenant):
    program_on(tenant)
    c, d = customer(tenant, "0912000001"), customer(tenant, "0912000002")
    give(tenant, c, 1_200)
    give(tenant, d, 10)
    assert services.ledger_verify(tenant=tenant).mismatches == 0
    LoyaltyAccount.objects.filter(customer=c).update(balance=1_000)
    LoyaltyAccount.objects.filter(customer=d).update(tier=Tier.objects.get(name="Vàng"))
    check = services.ledger_verify(tenant=tenant)
    assert (check.accounts, check.mismatches) == (2, 1)  # a higher tier is kept: allowed
    assert check.details[0] | {} == {
        "customer": c.pk, "code": c.code, "balance": 1_000, "lifetime": 1_200,
        "ledger_balance": 1_200, "ledger_lifetime": 1_200}
    assert balance(c) == 1_000  # reported, not fixed
    program_on(tenant, tiers_can_drop=True)
    LoyaltyAccount.objects.filter(customer=c).update(balance=1_200)
    check = services.ledger_verify(tenant=tenant)
    assert check.mismatches == 1 and check.details[0]["customer"] == d.pk
    assert check.details[0]["tier"] == "Vàng" and check.details[0]["expected_tier"] == "Đồng"
    LoyaltyAccount.objects.filter(customer=d).delete()  # entries without an account
    check = services.ledger_verify(tenant=tenant)
    assert check.mismatches == 1 and check.details[0]["balance"] is None
    assert LedgerCheck.objects.filter(tenant=tenant).count() == 4


def test_the_check_counts_only_its_shop(tenant, other_tenant):
    program_on(tenant)
    program_on(other_tenant)
    give(other_tenant, customer(other_tenant), 10)
    LoyaltyAccount.objects.update(balance=5)
    check = services.ledger_verify(tenant=tenant)
    assert (check.accounts, check.mismatches) == (0, 0)


# --- the property: random sequences keep every account equal to its ledger -------------------

class World:
    """A shop with three customers and their orders, driven by one seeded random."""

    def __init__(self, tenant, rng: random.Random):
        self.tenant, self.rng = tenant, rng
        program_on(tenant, expiry_months=12, tiers_can_drop=rng.random() < 0.5,
                   earn_amount=rng.choice([10_000, 25_000]))
        self.customers = [customer(tenant, f"09120000{i:02d}") for i in range(3)]
        self.orders: list[Order] = []
        self.expiry_day = TODAY

    def step(self) -> str:
        rng = self.rng
        ops = ["create", "create", "manual", "expiry"]
        if self.orders:
            ops += ["deliver", "pay", "return_", "cancel", "redeliver", "link", "pay"]
        op = rng.choice(ops)
        try:
            getattr(self, op)()
        except ValidationError:
            pass  # refused (points over the balance, a transition not allowed): no change
        return op

    def pick(self, *statuses) -> Order | None:
        found = [o for o in (fresh(o) for o in self.orders) if o.status in statuses]
        return self.rng.choice(found) if found else None

    def create(self):
        rng = self.rng
        c = rng.choice(self.customers)
        total = rng.randrange(50_000, 3_000_000, 1_000)
        points = rng.choice([0, 0, rng.randint(1, max(balance(c), 1) + 20)])
        o = order(self.tenant, c, total=total, status=rng.choice(["new", "delivered"]),
                  paid=rng.choice([0, total, rng.randrange(0, total + 1, 1_000)]),
                  points_redeemed=points)
        self.orders.append(o)

    def deliver(self):
        o = self.pick("new", "confirmed", "shipping")
        if o:
            orders.order_set_status(tenant=self.tenant, actor=SYSTEM, order=o,
                                    status="delivered")

    def pay(self):
        o = self.pick("new", "delivered")
        owed = o.total_amount - o.returned_amount - o.paid_amount if o else 0
        if owed > 0:
            orders.order_record_payment(tenant=self.tenant, actor=SYSTEM, order=o,
                                        amount=self.rng.randint(1, owed))

    def return_(self):
        o = self.pick("delivered")
        left = o.total_amount - o.returned_amount if o else 0
        if left > 0:
            orders.order_return(tenant=self.tenant, actor=SYSTEM, order=o,
                                amount=self.rng.choice([left, self.rng.randint(1, left)]))

    def cancel(self):
        o = self.pick("new", "delivered")
        if o:
            orders.order_set_status(tenant=self.tenant, actor=SYSTEM, order=o,
                                    status="cancelled")

    def redeliver(self):
        o = self.pick("cancelled")
        if o:
            orders.order_set_status(tenant=self.tenant, actor=SYSTEM, order=o, status="new")
            orders.order_set_status(tenant=self.tenant, actor=SYSTEM, order=fresh(o),
                                    status="delivered")

    def link(self):
        o = self.pick("new", "delivered", "cancelled", "returned")
        if o:
            orders.order_link_customer(tenant=self.tenant, actor=SYSTEM, order=o,
                                       customer=self.rng.choice([*self.customers, None]))

    def manual(self):
        c = self.rng.choice(self.customers)
        give(self.tenant, c, self.rng.choice([1, 1, -1]) * self.rng.randint(1, 1_500),
             effective_date=TODAY - datetime.timedelta(days=self.rng.randint(0, 800)))

    def expiry(self):
        self.expiry_day += datetime.timedelta(days=self.rng.randint(0, 200))
        services.points_expire(tenant=self.tenant, today=self.expiry_day)


def assert_orders_count_right(tenant):
    """Each order counts for what its contribution says (at the shop's rate): the points its
    paid part earns (unless what was earned was already used up, see the reversal test)
    and the points it uses while it stands."""
    program = services.program_of(tenant)
    for o in Order.objects.filter(tenant=tenant):
        state = OrderPoints.objects.filter(order=o).first()
        now = contribution(o)
        redeemed = state.redeemed if state else 0
        assert redeemed == now.points, o
        earned = state.earned if state else 0
        assert earned == (now.paid // program.earn_amount if o.customer_id else 0), o
        if state:
            assert state.customer_id == o.customer_id


@pytest.mark.parametrize("seed", range(30))
def test_random_sequences_keep_every_account_equal_to_its_ledger(tenant, seed):
    world = World(tenant, random.Random(seed))
    for _step in range(40):
        world.step()
        for a in LoyaltyAccount.objects.filter(tenant=tenant):
            assert a.balance >= 0
    assert_orders_count_right(tenant)
    assert_ledger_exact(tenant)
