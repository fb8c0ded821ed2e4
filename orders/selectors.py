"""Reads of orders shared by the order screens, the profile tabs and the API."""

import re
from dataclasses import dataclass

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Reverse

from crm.pagination import ListResult, capped_count, keyset_paginate
from customers.models import Customer
from customers.normalize import PHONE_CHARS, normalize_email, phone_digits_for_search
from customers.selectors import customer_search, scope_customers

from .models import CustomerStats, Order, OrderStatus, Payment, Return

ORDER_CODE = re.compile(r"^\s*dh\s*0*(\d{1,12})\s*$", re.IGNORECASE)
ORDER_SORT = ["-ordered_at", "-id"]


def scope_orders(queryset: QuerySet, actor) -> QuerySet:
    """The orders ``actor`` may see: those of the customers they see; orders not linked to
    a customer only with every customer (the customers app's visibility rule)."""
    return scope_customers(queryset, actor, path="customer__")


# A name typed in the order search also finds the orders of the customers whose name it
# matches (in any accents), up to this many customers: a name as common as "Nguyễn" is found
# through the orders' own contact names.
NAME_MATCHED_CUSTOMERS = 1000


def order_search(queryset: QuerySet, query: str, tenant=None) -> QuerySet:
    """Order code, contact phone (any format, its beginning or its last digits), email, a
    channel's order id, or a name (the order's contact, or the linked customer's)."""
    query = (query or "").strip()
    if not query:
        return queryset
    if match := ORDER_CODE.match(query):
        return queryset.filter(number=int(match.group(1)))
    if "@" in query:
        return queryset.filter(contact_email__startswith=normalize_email(query))
    digits = re.sub(r"\D", "", query)
    if PHONE_CHARS.match(query) and len(digits) >= 4:
        prefix, _digits = phone_digits_for_search(query)
        if prefix:
            return queryset.filter(contact_phone_normalized__startswith=prefix)
        # The last digits, through the index on reverse(contact_phone_normalized)
        # (migration 0004): an index range, where "ends with" read every order.
        return queryset.alias(phone_reversed=Reverse("contact_phone_normalized")).filter(
            Q(external_id=query) | Q(phone_reversed__startswith=_digits[::-1]))
    # Each arm is an index (a trigram index on UPPER(contact_name), migration 0004; the
    # partial index of channel ids; order_stats_idx for the customers' ids), so PostgreSQL
    # ORs three bitmaps. Joining the customer and reading ``icontains`` of their name read
    # every order of the shop (10M orders: 7 s; now milliseconds).
    named = [] if tenant is None else list(
        customer_search(Customer.objects.for_tenant(tenant), tenant, query)
        .order_by().values_list("pk", flat=True)[:NAME_MATCHED_CUSTOMERS])
    return queryset.filter(Q(contact_name__icontains=query) | Q(external_id=query)
                           | Q(customer_id__in=named))


def order_list(*, queryset: QuerySet, sort: str = "", after=None, before=None,
               size: int = 50) -> ListResult:
    """Newest first (one order: the list offers no other sort yet)."""
    rows = queryset.select_related("customer", "channel__parent")
    page = keyset_paginate(rows, order=ORDER_SORT, after=after, before=before, size=size)
    count, more = capped_count(queryset)
    return ListResult(page=page, count=count, more=more)


def customer_orders(customer) -> QuerySet:
    return (Order.objects.for_tenant(customer.tenant).filter(customer=customer)
            .select_related("channel__parent").order_by("-ordered_at", "-id"))


def related_orders(customer, actor) -> QuerySet:
    """Orders carrying one of the customer's phones or emails but not linked to them,
    among those ``actor`` may see."""
    phones = list(customer.phones.values_list("normalized", flat=True))
    emails = list(customer.emails.values_list("email", flat=True))
    if not phones and not emails:
        return Order.objects.none()
    return (scope_orders(Order.objects.for_tenant(customer.tenant), actor)
            .filter(Q(contact_phone_normalized__in=phones) | Q(contact_email__in=emails))
            .exclude(customer=customer).select_related("customer", "channel__parent")
            .order_by("-ordered_at", "-id"))


def customer_returns(customer) -> QuerySet:
    return (Return.objects.for_tenant(customer.tenant).filter(order__customer=customer)
            .select_related("order").order_by("-returned_at", "-id"))


DEBT_ROWS = 100


def customer_debts(customer, limit: int = DEBT_ROWS) -> tuple[list, int]:
    """Delivered orders with something left to pay (the newest ``limit``), and the total
    owed by all of them. Chosen and summed in SQL (order_stats_idx covers the amounts): a
    wholesale buyer's 2,000 delivered orders were read into Python to keep 250."""
    left = F("total_amount") - F("returned_amount") - F("paid_amount")
    owing = (customer_orders(customer).filter(status=OrderStatus.DELIVERED)
             .alias(left=left).filter(left__gt=0))
    owed = owing.aggregate(owed=Coalesce(Sum(left), 0))["owed"]
    return list(owing[:limit]), owed


# --- one definition of a customer's money ----------------------------------------------------
# "Tổng chi tiêu" is what the customer bought and kept: delivered orders (a fully returned
# one included, it counts for nothing), net of returns — the definition of CustomerStats
# (orders/stats.py), read from its row. The overview card, the Đơn hàng tab and the Công nợ
# tab all show these figures from customer_order_summary; cancelled orders, orders still in
# progress, returns and money owed back to the customer are shown apart, never added in.

COUNTED = (OrderStatus.DELIVERED, OrderStatus.RETURNED)
OPEN = (OrderStatus.NEW, OrderStatus.CONFIRMED, OrderStatus.SHIPPING)
# Paid beyond what a counted order is worth now (a return after payment), or anything paid
# on a cancelled order: the shop owes it back until a refund is recorded (order_refund).
REFUND_DUE = Case(
    When(status=OrderStatus.CANCELLED, then=F("paid_amount")),
    When(status__in=COUNTED, paid_amount__gt=F("total_amount") - F("returned_amount"),
         then=F("paid_amount") - F("total_amount") + F("returned_amount")),
    default=Value(0))
HAS_REFUND_DUE = (Q(status=OrderStatus.CANCELLED, paid_amount__gt=0)
                  | Q(status__in=COUNTED,
                      paid_amount__gt=F("total_amount") - F("returned_amount")))


@dataclass(frozen=True)
class OrderSummary:
    delivered_orders: int = 0
    total_spend: int = 0  # delivered, net of returns
    spend_3_months: int = 0
    average_order: int = 0
    first_order_at: object = None
    last_order_at: object = None
    debt: int = 0  # left to pay on delivered orders
    returned_amount: int = 0  # goods sent back, already out of total_spend
    # From the orders themselves, with ``breakdown`` (the tabs, not the card):
    open_orders: int = 0
    open_amount: int = 0
    cancelled_orders: int = 0
    cancelled_amount: int = 0
    refund_due: int = 0  # owed back to the customer

    @property
    def paid(self) -> int:
        """Paid towards what was bought: total_spend = paid + debt (an overpayment is not
        spend; it is in refund_due)."""
        return self.total_spend - self.debt


def customer_order_summary(customer, *, breakdown: bool = False) -> OrderSummary:
    """The customer's order figures, one definition for every page (see above).

    Reads the stats row (none yet: zeros), already loaded with ``select_related("stats")``
    or one query; ``breakdown`` adds one aggregate query over the customer's orders for
    the orders in progress, the cancelled ones and the money owed back."""
    if "stats" in customer._state.fields_cache:  # select_related: the row, or None
        stats = customer._state.fields_cache["stats"]
    else:
        stats = CustomerStats.objects.filter(customer_id=customer.pk).first()
    figures = {}
    if stats is not None:
        figures = {f: getattr(stats, f) for f in (
            "delivered_orders", "total_spend", "spend_3_months", "average_order",
            "first_order_at", "last_order_at", "debt", "returned_amount")}
    if breakdown:
        zero = Value(0)
        figures.update(Order.objects.for_tenant(customer.tenant).filter(customer=customer)
                       .aggregate(
            open_orders=Count("pk", filter=Q(status__in=OPEN)),
            open_amount=Coalesce(Sum("total_amount", filter=Q(status__in=OPEN)), zero),
            cancelled_orders=Count("pk", filter=Q(status=OrderStatus.CANCELLED)),
            cancelled_amount=Coalesce(Sum("total_amount",
                                          filter=Q(status=OrderStatus.CANCELLED)), zero),
            refund_due=Coalesce(Sum(REFUND_DUE), zero)))
    return OrderSummary(**figures)


def customer_refunds_due(customer) -> QuerySet:
    """The customer's orders on which the shop owes money back, newest first."""
    return customer_orders(customer).filter(HAS_REFUND_DUE)


def customer_payments(customer) -> QuerySet:
    return (Payment.objects.for_tenant(customer.tenant).filter(order__customer=customer)
            .select_related("order").order_by("-paid_at", "-id"))
