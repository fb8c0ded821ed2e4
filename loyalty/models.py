"""Loyalty: the shop's program (earning, redeeming, expiry, tiers), the append-only point
ledger, and each customer's account (balance, lifetime points, tier) kept in a narrow
one-to-one row of its own (like ``orders.CustomerStats``), never on ``Customer``.

The ledger is the truth: an account's balance is the sum of its entries' ``delta`` and its
lifetime points the sum of their ``lifetime_delta``. Entries are never updated or deleted
(``PointEntryQuerySet`` has no path for it; on PostgreSQL a trigger of migration 0002
refuses it); a mistake is corrected by a new entry. The only exception is a merge of two
customers, which moves the merged customer's entries to the survivor unchanged.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Tenant, TenantOwned, TenantQuerySet
from customers.models import Customer, Source


class TierBasis(models.TextChoices):
    POINTS = "points", _("Lifetime points")
    SPEND = "spend", _("Spend in the last 12 months")


class LoyaltyProgram(models.Model):
    """One shop's program. Off (the default): no points tab, no points on the profile,
    nothing earned; points already in the ledger stay."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True,
                                  related_name="loyalty_program")
    enabled = models.BooleanField(_("run a loyalty program"), default=False)
    earn_amount = models.BigIntegerField(
        _("đồng per point earned"), default=10_000,
        help_text=_("A delivered order earns 1 point for each this many đồng paid, rounded "
                    "down."))
    earn_channels = models.ManyToManyField(
        Source, blank=True, related_name="+", verbose_name=_("channels that earn points"),
        help_text=_("None chosen: orders of every channel earn."))
    point_value = models.BigIntegerField(
        _("value of 1 point (đồng)"), default=1_000,
        help_text=_("What one point takes off an order when the customer uses it."))
    expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"), null=True, blank=True,
        help_text=_("Empty: points never expire. Points expire in the order they were "
                    "earned, the oldest first."))
    tier_basis = models.CharField(_("tiers follow"), max_length=10, choices=TierBasis.choices,
                                  default=TierBasis.POINTS)
    tiers_can_drop = models.BooleanField(
        _("tiers can go down"), default=False,
        help_text=_("Off: a customer keeps the highest tier reached."))
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        constraints = [
            models.CheckConstraint(condition=models.Q(earn_amount__gte=1)
                                   & models.Q(point_value__gte=0),
                                   name="loyalty_program_amounts"),
        ]

    def __str__(self):
        return f"loyalty {self.tenant_id}"

    def earn_channel_ids(self) -> set[int]:
        if self._state.adding or not self.enabled:
            return set()
        if not hasattr(self, "_channel_ids"):
            self._channel_ids = set(self.earn_channels.values_list("pk", flat=True))
        return self._channel_ids

    def points_for(self, amount: int, earn_amount: int | None = None) -> int:
        """Points earned on ``amount`` đồng paid (rounded down)."""
        rate = earn_amount or self.earn_amount
        return max(amount, 0) // rate if rate > 0 else 0


class Tier(TenantOwned):
    """A rank (Đồng, Bạc, Vàng): a customer holds the highest tier whose threshold their
    lifetime points (or spend of the last 12 months, per the program) reach."""

    name = models.CharField(_("tier name"), max_length=60)
    threshold = models.BigIntegerField(_("from"), default=0)
    color = models.CharField(_("colour"), max_length=7, default="#a0522d")

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="tier_unique_name"),
            models.UniqueConstraint(fields=["tenant", "threshold"],
                                    name="tier_unique_threshold"),
            models.CheckConstraint(condition=models.Q(threshold__gte=0),
                                   name="tier_threshold_not_negative"),
        ]

    def __str__(self):
        return self.name


class LoyaltyAccount(models.Model):
    """A customer's points: balance, lifetime points and tier, moved only by
    ``loyalty.services.ledger`` together with a ledger entry, under this row's lock."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True,
                                    related_name="loyalty")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, editable=False)
    balance = models.BigIntegerField(_("points"), default=0)
    lifetime = models.BigIntegerField(_("lifetime points"), default=0)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="accounts", verbose_name=_("tier"))
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0),
                                   name="loyalty_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["tenant", "balance"], name="loyalty_balance_idx"),
            models.Index(fields=["tenant", "tier"], name="loyalty_tier_idx"),
        ]

    def __str__(self):
        return f"points {self.customer_id}: {self.balance}"


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Used")
    MANUAL = "manual", _("Updated by hand")
    REVERSAL = "reversal", _("Reversed")
    EXPIRY = "expiry", _("Expired")


class AppendOnlyError(ValidationError):
    pass


class PointEntryQuerySet(TenantQuerySet):
    """No update and no delete: the ledger only grows."""

    def update(self, **kwargs):
        raise AppendOnlyError("The point ledger is append-only: write a new entry.")

    def delete(self):
        raise AppendOnlyError("The point ledger is append-only: write a new entry.")

    def _repoint(self, customer) -> int:
        """A merge of two customers: the merged one's entries, unchanged, now belong to the
        survivor (the database trigger lets only this column change, only while
        ``loyalty.services.ledger.points_move_on_merge`` runs)."""
        return super().update(customer=customer)


class PointEntry(TenantOwned):
    # Every index of the ledger starts with the tenant: no index of its own (it would be
    # one more to write on every entry).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, db_index=False,
                               editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="point_entries", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    delta = models.BigIntegerField(_("points"))
    # How the entry moves lifetime points: earning, reversals and manual updates do;
    # using points and expiry do not.
    lifetime_delta = models.BigIntegerField(default=0)
    effective_date = models.DateField(_("date of use"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("order"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = PointEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        constraints = [
            models.CheckConstraint(condition=~models.Q(delta=0) | ~models.Q(lifetime_delta=0),
                                   name="point_entry_moves_something"),
        ]
        indexes = [
            # The profile's ledger, the nightly check's sums and expiry's due points: read
            # from the index alone (PostgreSQL).
            models.Index(fields=["tenant", "customer", "id"], name="point_customer_idx",
                         include=["delta", "lifetime_delta", "effective_date"]),
            models.Index(fields=["tenant", "id"], name="point_shop_idx"),
            models.Index(fields=["tenant", "kind", "id"], name="point_kind_idx"),
            models.Index(fields=["tenant", "effective_date", "id"], name="point_date_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.kind} {self.delta:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("The point ledger is append-only: write a new entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The point ledger is append-only: write a new entry.")


class OrderPoints(models.Model):
    """What one order counts for on a points account now: the points it earned and the
    points it used, with the rate fixed when it was first delivered. The receiver of
    ``order_contribution_changed`` compares the order's new state with this row and writes
    the ledger entries for the difference, so an event seen twice writes nothing twice."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, primary_key=True,
                                 related_name="loyalty")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, editable=False)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.CASCADE,
                                 related_name="+")
    earn_amount = models.BigIntegerField(default=0)  # đồng per point; 0: earns nothing
    earned = models.BigIntegerField(default=0)
    redeemed = models.BigIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    def __str__(self):
        return f"order {self.order_id}: +{self.earned} -{self.redeemed}"


class TierChange(TenantOwned):
    """A customer moved from one tier to another (the profile's timeline)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    from_name = models.CharField(max_length=60, blank=True)
    to_name = models.CharField(max_length=60, blank=True)
    promoted = models.BooleanField(default=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "customer", "changed_at"],
                                name="tier_change_customer_idx")]

    def __str__(self):
        return f"{self.customer_id}: {self.from_name} -> {self.to_name}"


class LedgerCheck(TenantOwned):
    """A nightly verification of every account against the ledger: reported, not fixed."""

    ran_at = models.DateTimeField(auto_now_add=True)
    accounts = models.PositiveIntegerField(default=0)
    mismatches = models.PositiveIntegerField(default=0)
    # Up to 50 accounts that differ: [{"customer", "code", "balance", "ledger", ...}]
    details = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ran_at"], name="ledger_check_idx")]

    def __str__(self):
        return f"check {self.tenant_id} {self.ran_at:%d/%m/%Y}: {self.mismatches}"
