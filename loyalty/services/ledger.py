"""Every change of a customer's points: one function (``_post``) writes a ledger entry and
moves the account (balance, lifetime points, tier) under the account's row lock, and
refuses a balance below zero. "Cập nhật điểm", order events and merges go through it; the
nightly expiry writes a batch of entries and moves their accounts the same way, under the
same locks, set-based (it never moves lifetime points or tiers).

Lock order: a service locks the accounts it moves (``account_for_update``) before it reads
anything that decides what to write (an order's ``OrderPoints``, the expiry due), so two
transactions on one customer's points run one after the other and the second sees what the
first wrote.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import access
from crm.access import AccessDenied
from crm.audit import audit_record
from crm.money import format_money
from customers.models import Customer
from customers.selectors import can_see_customer

from ..models import (
    EntryKind,
    LoyaltyAccount,
    LoyaltyProgram,
    OrderPoints,
    PointEntry,
    Tier,
    TierBasis,
    TierChange,
)
from .program import program_of, spend_12_months, tier_for, tiers_of

# A point change typed by hand is at most this (a typo of three extra zeros is refused).
MAX_MANUAL = 10_000_000


def points_text(points: int) -> str:
    return format_money(points)


def _today() -> datetime.date:
    return timezone.localdate()


class _Shop:
    """The shop's program and tiers, read once per service call, in one statement (an
    order event may write several entries, and each needs them)."""

    # The program with its tiers (a row per tier) and, for an order event, what the order
    # counts for now (its OrderPoints row, read without lock) and whether its channel earns:
    # everything an order event needs to know whether it has anything to do, in one round
    # trip.
    SQL = """
    SELECT {columns}
    FROM loyalty_loyaltyprogram p LEFT JOIN loyalty_tier t ON t.tenant_id = p.tenant_id
    {join}
    WHERE p.tenant_id = %s ORDER BY t.threshold
    """
    ORDER_POINTS = ["customer_id", "earn_amount", "earned", "redeemed"]
    CHANNEL_OK = """(NOT EXISTS (SELECT 1 FROM {m2m} c WHERE c.{program} = p.tenant_id)
        OR EXISTS (SELECT 1 FROM {m2m} c WHERE c.{program} = p.tenant_id
                   AND c.{source} = %s))"""

    def __init__(self, tenant, program: LoyaltyProgram, tiers: list[Tier] | None = None):
        self.tenant = tenant
        self.program = program
        self._tiers = tiers
        self.order_points: OrderPoints | None = None
        self.channel_earns: bool | None = None

    @classmethod
    def load(cls, tenant, order=None) -> "_Shop":
        """The shop's program (an unsaved, switched-off one when it never set one up) and
        tiers; with ``order``, its OrderPoints row as stored now (``order_points``, unlocked)
        and whether its channel earns (``channel_earns``)."""
        program_fields = [f.attname for f in LoyaltyProgram._meta.concrete_fields]
        tier_fields = [f.attname for f in Tier._meta.concrete_fields]
        columns = [f"p.{f}" for f in program_fields] + [f"t.{f}" for f in tier_fields]
        params, join = [], ""
        if order is not None:
            through = LoyaltyProgram.earn_channels.through._meta
            columns += [f"s.{f}" for f in cls.ORDER_POINTS] + ["s.order_id IS NOT NULL"]
            columns.append(cls.CHANNEL_OK.format(
                m2m=through.db_table, program=through.get_field("loyaltyprogram").column,
                source=through.get_field("source").column))
            params.append(order.channel_id)
            join = "LEFT JOIN loyalty_orderpoints s ON s.order_id = %s"
            params.append(order.pk)
        sql = cls.SQL.format(columns=", ".join(columns), join=join)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, tenant.pk])
            rows = cursor.fetchall()
        if not rows:
            return cls(tenant, LoyaltyProgram(tenant_id=tenant.pk), [])
        n, m = len(program_fields), len(tier_fields)
        program = LoyaltyProgram.from_db(connection.alias, program_fields, rows[0][:n])
        tiers = [Tier.from_db(connection.alias, tier_fields, row[n:n + m])
                 for row in rows if row[n] is not None]
        shop = cls(tenant, program, tiers)
        if order is not None:
            *stored, counted, channel_earns = rows[0][n + m:]
            shop.channel_earns = bool(channel_earns)
            if counted:
                shop.order_points = OrderPoints(order_id=order.pk, tenant_id=tenant.pk,
                                                **dict(zip(cls.ORDER_POINTS, stored,
                                                           strict=True)))
        return shop

    def earns(self, order) -> bool:
        """Does ``order`` earn points now (program on, and its channel among those that
        earn)?"""
        if not self.program.enabled:
            return False
        if self.channel_earns is not None:
            return self.channel_earns
        channels = self.program.earn_channel_ids()
        return not channels or order.channel_id in channels

    @property
    def tiers(self) -> list[Tier]:
        if self._tiers is None:
            self._tiers = tiers_of(self.tenant)
        return self._tiers

    def tier(self, pk: int | None) -> Tier | None:
        if pk is None:
            return None
        return next((t for t in self.tiers if t.pk == pk), None)


# A missing account is made for a customer of this shop only (another shop's customer id
# inserts nothing), in the tier that starts at 0; ON CONFLICT: two transactions making it
# at once both end up locking the one row.
CREATE_ACCOUNT_SQL = """
INSERT INTO loyalty_loyaltyaccount
    (customer_id, tenant_id, balance, lifetime, tier_id, tier_since, updated_at)
SELECT id, tenant_id, 0, 0, %s, %s, %s FROM customers_customer
WHERE id = %s AND tenant_id = %s
ON CONFLICT (customer_id) DO NOTHING
"""


def account_for_update(tenant, customer_id: int, shop: _Shop | None = None) -> LoyaltyAccount:
    """The customer's account, locked for this transaction (created when missing: one
    statement when it exists, three the first time). LoyaltyAccount.DoesNotExist for a
    customer of another shop."""
    locked = LoyaltyAccount.objects.select_for_update()
    account = locked.filter(customer_id=customer_id, tenant_id=tenant.pk).first()
    if account is None:
        base = tier_for((shop or _Shop.load(tenant)).tiers, 0)
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(CREATE_ACCOUNT_SQL, [base.pk if base else None,
                                                now if base else None, now, customer_id,
                                                tenant.pk])
        account = locked.get(customer_id=customer_id, tenant_id=tenant.pk)
    return account


@dataclass(frozen=True)
class Posted:
    entry: PointEntry | None
    account: LoyaltyAccount


def _post(tenant, account: LoyaltyAccount, *, kind: str, delta: int, lifetime_delta: int,
          effective_date: datetime.date, reason: str = "", order=None, actor=None,
          spend_changed: bool = False, refuse_field: str = "points",
          shop: _Shop | None = None) -> Posted:
    """Write one entry and move ``account`` (locked by the caller) with it. Lifetime points
    never go below 0 either: the entry records what it really moved."""
    if account.balance + delta < 0:
        raise ValidationError({refuse_field: _(
            "The customer has only %(balance)s points: %(asked)s cannot be taken.") % {
            "balance": points_text(account.balance), "asked": points_text(-delta)}})
    lifetime_delta = max(lifetime_delta, -account.lifetime)
    if delta == 0 and lifetime_delta == 0:
        return Posted(None, account)
    entry = PointEntry.objects.create(
        tenant=tenant, customer_id=account.customer_id, kind=kind, delta=delta,
        lifetime_delta=lifetime_delta, effective_date=effective_date, reason=reason[:255],
        order=order, actor=access.user_of(actor))
    account.balance += delta
    account.lifetime += lifetime_delta
    fields = ["balance", "lifetime", "updated_at"]
    if _refresh_tier(tenant, account, spend_changed=spend_changed, shop=shop):
        fields += ["tier", "tier_since"]
    account.save(update_fields=fields)
    return Posted(entry, account)


def _refresh_tier(tenant, account: LoyaltyAccount, *, spend_changed: bool,
                  shop: _Shop | None = None, floor: Tier | None = None) -> bool:
    """Put the account in the tier its lifetime points (or spend) reach — never lower than
    it holds (or ``floor``, a merged customer's tier) when tiers cannot go down — and record
    the change. Returns whether it changed (the caller saves the account)."""
    shop = shop or _Shop.load(tenant)
    program = shop.program
    if program.tier_basis == TierBasis.SPEND:
        if not spend_changed:
            return False  # a manual update or a use of points moves no spend
        value = spend_12_months(account.customer_id, tenant)
    else:
        value = account.lifetime
    new = tier_for(shop.tiers, value)
    current = shop.tier(account.tier_id)
    if not program.tiers_can_drop:
        for held in (current, floor):
            if held is not None and (new is None or held.threshold > new.threshold):
                new = held
    if (new.pk if new else None) == account.tier_id:
        return False
    promoted = new is not None and (current is None or new.threshold > current.threshold)
    TierChange.objects.create(tenant=tenant, customer_id=account.customer_id,
                              from_name=current.name if current else "",
                              to_name=new.name if new else "", promoted=promoted)
    account.tier = new
    account.tier_since = timezone.now()
    return True


# --- "Cập nhật điểm" ------------------------------------------------------------------------

@transaction.atomic
def points_adjust(*, tenant, actor, customer: Customer, delta: int,
                  effective_date: datetime.date | None = None, reason: str) -> Posted:
    """A manager adds (``delta`` > 0) or subtracts points by hand, with a reason; the date
    of use is today unless given (never in the future). Audited.

    Statements: the program, the account's lock (two more the first time), the entry, the
    account's update, the audit row (and the tiers when lifetime points move)."""
    access.require(actor, "points.adjust", tenant)
    if customer.tenant_id != tenant.pk:
        raise ValidationError(_("This customer belongs to another shop."))
    if not can_see_customer(actor, customer):
        raise AccessDenied("points.adjust", _("This customer is not assigned to you."))
    shop = _Shop.load(tenant)
    if not shop.program.enabled:
        raise ValidationError(_("Turn the loyalty program on first (Tích điểm)."))
    reason = (reason or "").strip()
    errors = {}
    if not delta:
        errors["delta"] = _("Enter the points to add or subtract (not 0).")
    elif abs(delta) > MAX_MANUAL:
        errors["delta"] = _("At most %(max)s points at once.") % {"max": points_text(MAX_MANUAL)}
    if not reason:
        errors["reason"] = _("Say why the points change.")
    effective_date = effective_date or _today()
    if effective_date > _today():
        errors["effective_date"] = _("The date of use cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    account = account_for_update(tenant, customer.pk, shop)
    before = account.balance
    # A manual update corrects what was earned: it moves lifetime points too (never below
    # 0: _post keeps them there).
    posted = _post(tenant, account, kind=EntryKind.MANUAL, delta=delta,
                   lifetime_delta=delta, effective_date=effective_date,
                   reason=reason, actor=actor, refuse_field="delta", shop=shop)
    audit_record(tenant, actor, "points.adjust", customer,
                 before={"points": before},
                 after={"points": posted.account.balance, "delta": delta, "reason": reason,
                        "effective_date": effective_date.isoformat()})
    return posted


# --- orders: earning, using, giving back ----------------------------------------------------

def _local_date(moment) -> datetime.date:
    return timezone.localtime(moment).date() if moment else _today()


def points_follow_order(*, tenant, order, before, after, actor=None) -> list[PointEntry]:
    """Bring the points an order counts for in line with ``after`` (orders.stats
    Contribution): earn when it is delivered and paid, reverse what a return or a
    cancellation takes away, earn again on a re-delivery, use and give back the points
    redeemed on it. Idempotent: it compares ``after`` with what the order already counts
    for (``OrderPoints``), so an event seen twice writes nothing the second time — also
    when two workers handle it at the same moment (the account's lock comes first).

    Runs inside the order's transaction (the order row is locked by the orders service);
    a redemption over the balance raises ValidationError and undoes the order's change.
    """
    with transaction.atomic(savepoint=False):  # the order's transaction (no savepoint)
        return _follow_order(tenant, order, before, after, actor)


def _target(shop, state: OrderPoints | None, order, after, newly_delivered: bool) -> tuple:
    """What the order should count for after this event: (customer, rate, earned, used),
    given what it counts for now (``state``; None: nothing yet)."""
    program = shop.program
    customer = order.customer_id
    previous, rate, earned = (state.customer_id, state.earn_amount, state.earned) \
        if state else (None, 0, 0)
    if newly_delivered and not rate and shop.earns(order):
        # The rate of the moment the order is delivered stays the order's: a return
        # months later reverses what it earned, whatever the rate is by then.
        rate = program.earn_amount
    target_earned = program.points_for(after.paid, rate) if rate and customer else 0
    earned_here = earned if previous == customer else 0
    if target_earned > earned_here and not shop.earns(order):
        # Program off (or a channel that no longer earns): nothing more is earned; what
        # was earned can still be reversed.
        target_earned = earned_here
    return customer, rate, target_earned, after.points if customer else 0


def _follow_order(tenant, order, before, after, actor) -> list[PointEntry]:
    target_customer = order.customer_id
    newly_delivered = bool(after.delivered and not before.delivered)
    # One statement decides whether this event has anything to do: the program (with its
    # tiers), what the order counts for now and whether its channel earns. A shop that never
    # ran a program, an order that counts for nothing and would not start to, an event that
    # leaves the order's points as they are (most events of a shop whose program is off):
    # stop here, without a lock.
    shop = _Shop.load(tenant, order)
    program = shop.program
    if program._state.adding:
        return []
    seen = shop.order_points
    tier_may_move = program.tier_basis == TierBasis.SPEND and (
        before.spend != after.spend or (seen is not None and seen.customer_id != target_customer))
    if seen is None:
        if not after.points and not (newly_delivered and shop.earns(order)):
            return []
    elif not tier_may_move and _target(shop, seen, order, after, newly_delivered) == (
            seen.customer_id, seen.earn_amount, seen.earned, seen.redeemed):
        return []
    # The account first, then the order's row: a second worker handling the same event
    # waits here, then reads the row the first one wrote and has nothing left to do.
    # Both customers' accounts when the order moves between them, in id order (as every
    # service locks several accounts): no deadlock with another service or the expiry.
    accounts = {pk: account_for_update(tenant, pk, shop) for pk in sorted(
        {target_customer, seen.customer_id if seen else None} - {None})}
    state = OrderPoints.objects.select_for_update().filter(order_id=order.pk).first()
    created = state is None
    if created:
        state = OrderPoints(order_id=order.pk, tenant_id=tenant.pk, customer_id=None)
    stored = (state.customer_id, state.earn_amount, state.earned, state.redeemed)
    previous = state.customer_id
    if previous and previous not in accounts:
        # The row changed since it was read unlocked (a worker racing this one): the orders
        # service holds both customers' stats rows already, so this lock cannot deadlock.
        accounts[previous] = account_for_update(tenant, previous, shop)
    _customer, state.earn_amount, target_earned, target_redeemed = _target(
        shop, None if created else state, order, after, newly_delivered)
    spend_moved = before.spend != after.spend or previous != target_customer
    when = _local_date(order.delivered_at) if after.delivered else _today()
    code = order.code
    written = []

    def post(customer_id, kind, delta, lifetime_delta, reason):
        account = accounts[customer_id]
        if delta < 0 and kind == EntryKind.REVERSAL and account.balance + delta < 0:
            # Points already used cannot be taken back: the reversal takes what is left.
            kept = -delta - account.balance
            reason = reason + " " + ngettext(
                "(%(n)s point was already used)", "(%(n)s points were already used)",
                kept) % {"n": points_text(kept)}
            delta = -account.balance
        posted = _post(tenant, account, kind=kind, delta=delta, lifetime_delta=lifetime_delta,
                       effective_date=when, reason=reason, order=order, actor=actor,
                       spend_changed=spend_moved, refuse_field="points_redeemed", shop=shop)
        if posted.entry is not None:
            written.append(posted.entry)

    if previous and previous != target_customer:
        # The order left this customer (linked to another, or unlinked): all it counted goes.
        if state.earned:
            post(previous, EntryKind.REVERSAL, -state.earned, -state.earned,
                 _("Order %(code)s moved to another customer") % {"code": code})
        if state.redeemed:
            post(previous, EntryKind.REVERSAL, state.redeemed, 0,
                 _("Points used on order %(code)s given back") % {"code": code})
        state.earned = state.redeemed = 0
    if target_customer:
        earn = target_earned - state.earned
        if earn > 0:
            if previous and previous != target_customer:
                reason = _("Order %(code)s linked to this customer") % {"code": code}
            elif newly_delivered:
                reason = _("Order %(code)s delivered") % {"code": code}
            else:
                reason = _("Order %(code)s paid") % {"code": code}
            post(target_customer, EntryKind.EARN, earn, earn, reason)
        elif earn < 0:
            post(target_customer, EntryKind.REVERSAL, earn, earn, _reversal_reason(code, after))
        use = target_redeemed - state.redeemed
        if use > 0:
            post(target_customer, EntryKind.REDEEM, -use, 0,
                 _("Used on order %(code)s") % {"code": code})
        elif use < 0:
            post(target_customer, EntryKind.REVERSAL, -use, 0,
                 _("Points used on order %(code)s given back") % {"code": code})
    state.customer_id = target_customer
    state.earned, state.redeemed = target_earned, target_redeemed
    if created:
        # A conflict is possible only for an order without customer (no account locked),
        # where nothing was written: the other worker's row says the same.
        OrderPoints.objects.bulk_create([state], ignore_conflicts=True)
    elif stored != (state.customer_id, state.earn_amount, state.earned, state.redeemed):
        state.save(update_fields=["customer", "earn_amount", "earned", "redeemed"])
    if program.tier_basis == TierBasis.SPEND and spend_moved:
        # Spend moved without points moving (an unpaid delivery): the tier may move still.
        for pk, account in accounts.items():
            if not any(e.customer_id == pk for e in written) and _refresh_tier(
                    tenant, account, spend_changed=True, shop=shop):
                account.save(update_fields=["tier", "tier_since", "updated_at"])
    return written


def _reversal_reason(code: str, after) -> str:
    if not after.delivered:
        return _("Order %(code)s cancelled or returned") % {"code": code}
    return _("Goods of order %(code)s returned") % {"code": code}


def points_value(*, tenant, points: int) -> int:
    """What ``points`` take off an order (the ``order_points_value`` answer)."""
    program = program_of(tenant)
    if not program.enabled:
        raise ValidationError({"points_redeemed": _(
            "This shop does not run a loyalty program: points cannot be used.")})
    return points * program.point_value


# --- merges ---------------------------------------------------------------------------------

def points_move_on_merge(*, tenant, survivor, merged) -> None:
    """Inside the merge (both customers locked by it): the merged customer's entries
    (unchanged), points, lifetime points, orders' points and tier changes belong to the
    survivor; its tier follows the sum (and, when tiers cannot go down, is at least the
    higher of the two)."""
    held = {a.customer_id: a for a in LoyaltyAccount.objects.select_for_update()
            .filter(tenant_id=tenant.pk, customer_id__in=[survivor.pk, merged.pk])
            .order_by("customer_id")}
    gone = held.get(merged.pk)
    orders_moved = OrderPoints.objects.filter(tenant_id=tenant.pk, customer_id=merged.pk) \
        .update(customer_id=survivor.pk)
    if gone is None and not orders_moved:
        return  # the merged customer never had points
    shop = _Shop.load(tenant)
    kept = held.get(survivor.pk) or account_for_update(tenant, survivor.pk, shop)
    if gone is not None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # the ledger trigger lets this column move
                cursor.execute("SELECT set_config('loyalty.merging', 'on', true)")
        PointEntry.objects.filter(tenant_id=tenant.pk, customer_id=merged.pk)._repoint(survivor)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('loyalty.merging', '', true)")
        TierChange.objects.filter(tenant_id=tenant.pk, customer_id=merged.pk) \
            .update(customer_id=survivor.pk)
        kept.balance += gone.balance
        kept.lifetime += gone.lifetime
    _refresh_tier(tenant, kept, spend_changed=True, shop=shop,
                  floor=shop.tier(gone.tier_id) if gone is not None else None)
    kept.save()


# --- opening balances (the Excel import) ----------------------------------------------------

OPENING_BATCH = 2_000


def points_set_balances(*, tenant, actor, balances: list[tuple[int, int]], reason: str) -> int:
    """Bring each customer's balance to the given count (a shop's opening balance from its
    old system): one "updated by hand" entry of the difference per customer whose balance
    differs, so importing the same file twice writes nothing the second time. Positive
    differences count as earned (lifetime points, tiers by points); set-based, by batches
    of accounts locked in id order, inside the caller's transaction. Returns the entries
    written."""
    access.require(actor, "points.adjust", tenant)
    shop = _Shop.load(tenant)
    if not shop.program.enabled:
        raise ValidationError(_("Turn the loyalty program on first (Tích điểm)."))
    wanted = {}
    for customer_id, points in balances:
        if points < 0:
            raise ValidationError(_("A balance cannot be negative."))
        wanted[customer_id] = points
    ids = sorted(wanted)
    today, now = _today(), timezone.now()
    base = tier_for(shop.tiers, 0)
    written = 0
    for start in range(0, len(ids), OPENING_BATCH):
        chunk = ids[start:start + OPENING_BATCH]
        have = set(LoyaltyAccount.objects.filter(tenant_id=tenant.pk, customer_id__in=chunk)
                   .values_list("customer_id", flat=True))
        mine = set(Customer.objects.for_tenant(tenant).filter(pk__in=chunk)
                   .values_list("pk", flat=True))
        LoyaltyAccount.objects.bulk_create(
            [LoyaltyAccount(tenant_id=tenant.pk, customer_id=cid, balance=0, lifetime=0,
                            tier=base, tier_since=now if base else None, updated_at=now)
             for cid in chunk if cid not in have and cid in mine], ignore_conflicts=True)
        accounts = list(LoyaltyAccount.objects.select_for_update()
                        .filter(tenant_id=tenant.pk, customer_id__in=chunk)
                        .order_by("customer_id"))
        entries, moved, changes = [], [], []
        for account in accounts:
            delta = wanted[account.customer_id] - account.balance
            if not delta:
                continue
            lifetime = max(delta, -account.lifetime) if delta < 0 else delta
            lifetime = 0 if delta < 0 else lifetime
            entries.append(PointEntry(
                tenant_id=tenant.pk, customer_id=account.customer_id, kind=EntryKind.MANUAL,
                delta=delta, lifetime_delta=lifetime, effective_date=today,
                reason=reason[:255], actor=access.user_of(actor)))
            account.balance += delta
            account.lifetime += lifetime
            account.updated_at = now
            if shop.program.tier_basis != TierBasis.SPEND:
                new = tier_for(shop.tiers, account.lifetime)
                current = shop.tier(account.tier_id)
                if not shop.program.tiers_can_drop and current is not None and (
                        new is None or current.threshold > new.threshold):
                    new = current
                if (new.pk if new else None) != account.tier_id:
                    changes.append(TierChange(
                        tenant_id=tenant.pk, customer_id=account.customer_id,
                        from_name=current.name if current else "",
                        to_name=new.name if new else "",
                        promoted=new is not None and (
                            current is None or new.threshold > current.threshold)))
                    account.tier, account.tier_since = new, now
            moved.append(account)
        PointEntry.objects.bulk_create(entries)
        TierChange.objects.bulk_create(changes)
        LoyaltyAccount.objects.bulk_update(
            moved, ["balance", "lifetime", "tier", "tier_since", "updated_at"])
        written += len(entries)
    if written:
        from .program import forget_tier_counts

        transaction.on_commit(lambda: forget_tier_counts(tenant.pk))
    return written


# --- expiry ---------------------------------------------------------------------------------

def expiry_due(tenant, cutoff: datetime.date):
    """Per customer, the points dated before ``cutoff`` not yet used, reversed or expired:
    first in, first out — whatever left the account counts against the oldest points.
    (A reversal of a recent order's points counts against the old ones too: the customer
    keeps a little more, never less.)"""
    return (PointEntry.objects.for_tenant(tenant).values("customer_id")
            .annotate(old=Sum(Case(When(delta__gt=0, effective_date__lt=cutoff,
                                        then=F("delta")), default=0)),
                      spent=Sum(Case(When(delta__lt=0, then=-F("delta")), default=0)))
            .annotate(due=F("old") - F("spent")).filter(due__gt=0))


EXPIRY_BATCH = 1_000


def points_expire(*, tenant, today: datetime.date | None = None,
                  batch: int = EXPIRY_BATCH) -> int:
    """Nightly, when the program says points expire: write the expiry of what is due.
    Customers go by batches, each its own transaction: their accounts locked (in id order),
    the due read again under the locks (a second run, or one racing this one, writes nothing
    twice), one expiry entry per account and the accounts moved with them — set-based, as
    the first night of a large shop expires most of its accounts at once. Expiry moves
    neither lifetime points nor tiers. Returns the points expired."""
    shop = _Shop.load(tenant)
    program = shop.program
    if not program.enabled or not program.expiry_months:
        return 0
    today = today or _today()
    cutoff = today - relativedelta(months=program.expiry_months)
    reason = _("Points earned before %(date)s expired") % {"date": cutoff.strftime("%d/%m/%Y")}
    due_ids = sorted(expiry_due(tenant, cutoff).values_list("customer_id", flat=True))
    total = 0
    for start in range(0, len(due_ids), batch):
        ids = due_ids[start:start + batch]
        with transaction.atomic():
            accounts = list(LoyaltyAccount.objects.select_for_update()
                            .filter(tenant_id=tenant.pk, customer_id__in=ids)
                            .order_by("customer_id"))
            due = dict(expiry_due(tenant, cutoff).filter(customer_id__in=ids)
                       .values_list("customer_id", "due"))
            entries, moved = [], []
            now = timezone.now()
            for account in accounts:
                amount = min(due.get(account.customer_id, 0), account.balance)
                if amount > 0:
                    entries.append(PointEntry(
                        tenant_id=tenant.pk, customer_id=account.customer_id,
                        kind=EntryKind.EXPIRY, delta=-amount, lifetime_delta=0,
                        effective_date=today, reason=reason))
                    account.balance -= amount
                    account.updated_at = now
                    moved.append(account)
                    total += amount
            PointEntry.objects.bulk_create(entries)
            LoyaltyAccount.objects.bulk_update(moved, ["balance", "updated_at"])
    return total
