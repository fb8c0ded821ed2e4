"""Orders, their lines, payments and returns, and the per-customer aggregates they feed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import TenantOwned, TenantQuerySet
from customers.models import Customer, Source
from customers.normalize import format_phone


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPING = "shipping", _("Shipping")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


class Order(TenantOwned):
    number = models.PositiveBigIntegerField(editable=False)
    code = models.CharField(_("order code"), max_length=20, editable=False)
    channel = models.ForeignKey(Source, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("channel"))
    external_id = models.CharField(_("channel's order id"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices,
                              default=OrderStatus.NEW)
    ordered_at = models.DateTimeField(_("ordered at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # First day of the Vietnamese calendar month of delivered_at: the VIP rule and the
    # monthly spend table group by it without time-zone arithmetic in SQL.
    delivered_month = models.DateField(null=True, blank=True, editable=False)
    total_amount = models.BigIntegerField(_("total (đồng)"))
    discount = models.BigIntegerField(_("discount (đồng)"), default=0)
    shipping_fee = models.BigIntegerField(_("shipping fee (đồng)"), default=0)
    paid_amount = models.BigIntegerField(_("paid (đồng)"), default=0)
    returned_amount = models.BigIntegerField(_("returned (đồng)"), default=0, editable=False)
    # Loyalty points the customer used on this order, and what they took off its total
    # (the shop's point value when the order was entered). Given back when the order is
    # cancelled or returned in full (orders.stats.Contribution.points).
    points_redeemed = models.BigIntegerField(_("points used"), default=0, editable=False)
    points_discount = models.BigIntegerField(_("points discount (đồng)"), default=0,
                                             editable=False)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_phone_normalized = models.CharField(max_length=20, blank=True, editable=False)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_address = models.CharField(_("delivery address"), max_length=255, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="orders", verbose_name=_("customer"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="order_unique_number"),
            models.UniqueConstraint(fields=["tenant", "code"], name="order_unique_code"),
            models.UniqueConstraint(fields=["tenant", "channel", "external_id"],
                                    name="order_unique_external_id",
                                    condition=~models.Q(external_id="")),
            models.CheckConstraint(condition=models.Q(total_amount__gte=0)
                                   & models.Q(paid_amount__gte=0)
                                   & models.Q(returned_amount__gte=0)
                                   & models.Q(points_redeemed__gte=0)
                                   & models.Q(points_discount__gte=0),
                                   name="order_amounts_not_negative"),
        ]
        indexes = [
            models.Index(fields=["tenant", "ordered_at", "id"], name="order_list_idx"),
            # Covering (PostgreSQL): the aggregates recompute reads only this index.
            models.Index(fields=["tenant", "customer", "status", "delivered_month"],
                         name="order_stats_idx",
                         include=["total_amount", "returned_amount", "paid_amount",
                                  "delivered_at"]),
            # Search by phone or email (the order list): pattern_ops (PostgreSQL) so that
            # "starts with" is an index range under the database's C.UTF-8 collation; "ends
            # with" uses reverse(contact_phone_normalized), an index of migration 0004.
            models.Index(fields=["tenant", "contact_phone_normalized"], name="order_phone_idx",
                         opclasses=["", "varchar_pattern_ops"]),
            models.Index(fields=["tenant", "contact_email"], name="order_email_idx",
                         opclasses=["", "varchar_pattern_ops"]),
            # A channel's order id, typed in the search box (most orders have none).
            models.Index(fields=["tenant", "external_id"], name="order_external_idx",
                         condition=~models.Q(external_id="")),
            models.Index(fields=["tenant", "status", "ordered_at"], name="order_status_idx"),
            # Delivered revenue by date and month (the dashboard): one shop's date range,
            # index only (PostgreSQL), however many orders were never delivered.
            models.Index(fields=["tenant", "delivered_at"], name="order_delivered_idx",
                         condition=models.Q(status="delivered"),
                         include=["delivered_month", "total_amount", "returned_amount",
                                  "customer"]),
        ]

    def __str__(self):
        return self.code

    @property
    def debt(self) -> int:
        if self.status != OrderStatus.DELIVERED:
            return 0
        return max(self.total_amount - self.returned_amount - self.paid_amount, 0)

    @property
    def refund_due(self) -> int:
        """Money the shop owes back: all that was paid on a cancelled order, or what was
        paid beyond a delivered order's worth after a return (orders.selectors.REFUND_DUE
        is the same rule in SQL)."""
        if self.status == OrderStatus.CANCELLED:
            return self.paid_amount
        if self.status in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
            return max(self.paid_amount - (self.total_amount - self.returned_amount), 0)
        return 0

    @property
    def contact_phone_display(self) -> str:
        return format_phone(self.contact_phone_normalized) or self.contact_phone


class OrderLine(TenantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_name = models.CharField(_("product"), max_length=255)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.BigIntegerField(_("unit price (đồng)"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return self.product_name

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class Payment(TenantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    amount = models.BigIntegerField(_("amount (đồng)"))
    paid_at = models.DateTimeField(_("paid at"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self):
        return f"{self.order_id}: {self.amount}"


class Return(TenantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    returned_at = models.DateTimeField(_("returned at"))
    amount = models.BigIntegerField(_("amount (đồng)"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        indexes = [models.Index(fields=["tenant", "order"], name="return_order_idx")]

    def __str__(self):
        return f"{self.order_id}: {self.amount}"


class CustomerStats(models.Model):
    """Order aggregates of one customer, in a narrow row of their own.

    Kept apart from the wide customer row so that updating them (every order event, and
    the nightly set-based recompute over a million customers) rewrites small tuples only.
    Dates are delivery dates: an order counts when it is delivered.
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True,
                                    related_name="stats")
    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, editable=False)
    delivered_orders = models.IntegerField(_("delivered orders"), default=0)
    total_spend = models.BigIntegerField(_("total spend"), default=0)
    spend_3_months = models.BigIntegerField(_("spend in the last 3 months"), default=0)
    average_order = models.BigIntegerField(_("average order value"), default=0)
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    debt = models.BigIntegerField(_("debt"), default=0)
    returned_amount = models.BigIntegerField(_("returned"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "total_spend"], name="stats_spend_idx"),
            models.Index(fields=["tenant", "delivered_orders"], name="stats_orders_idx"),
            models.Index(fields=["tenant", "last_order_at"], name="stats_last_order_idx"),
            models.Index(fields=["tenant", "debt"], name="stats_debt_idx"),
        ]

    def __str__(self):
        return f"stats {self.customer_id}"


class MonthlySpend(models.Model):
    """Delivered spend of one customer in one Vietnamese calendar month (the VIP rule).

    A small table rather than a JSON column: the VIP check and the recompute are plain
    indexed SQL, and months older than anyone asks about can be pruned.
    """

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="monthly_spend")
    month = models.DateField()
    spend = models.BigIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="monthlyspend_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "month", "spend"], name="monthlyspend_vip_idx")]

    def __str__(self):
        return f"{self.customer_id} {self.month:%m/%Y}: {self.spend}"
