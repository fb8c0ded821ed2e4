"""Reads of orders shared by the order screens, the profile tabs and the API."""

import re

from django.db.models import Q, QuerySet, Sum

from crm.pagination import capped_count, keyset_paginate
from customers.normalize import PHONE_CHARS, normalize_email, phone_digits_for_search
from customers.selectors import scope_customers

from .models import Order, OrderStatus, Payment, Return

ORDER_CODE = re.compile(r"^\s*dh\s*0*(\d{1,12})\s*$", re.IGNORECASE)
ORDER_SORT = ["-ordered_at", "-id"]


def scope_orders(queryset: QuerySet, actor) -> QuerySet:
    """The orders ``actor`` may see: those of the customers they see; orders not linked to
    a customer only with every customer (the customers app's visibility rule)."""
    return scope_customers(queryset, actor, path="customer__")


def order_search(queryset: QuerySet, query: str) -> QuerySet:
    """Order code, contact phone (any format, or its beginning), email, or contact name."""
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
        return queryset.filter(Q(external_id=query) | Q(contact_phone__endswith=digits))
    return queryset.filter(Q(contact_name__icontains=query) | Q(external_id=query)
                           | Q(customer__full_name__icontains=query))


def order_list(*, queryset: QuerySet, after=None, before=None, size: int = 50):
    rows = queryset.select_related("customer", "channel__parent")
    page = keyset_paginate(rows, order=ORDER_SORT, after=after, before=before, size=size)
    count, more = capped_count(queryset)
    return page, count, more


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


def customer_debts(customer) -> tuple[list, int]:
    """Delivered orders with something left to pay, and the total owed."""
    orders = [o for o in customer_orders(customer).filter(status=OrderStatus.DELIVERED)
              if o.debt > 0]
    return orders, sum(o.debt for o in orders)


def customer_payments(customer) -> QuerySet:
    return (Payment.objects.for_tenant(customer.tenant).filter(order__customer=customer)
            .select_related("order").order_by("-paid_at", "-id"))


def totals(queryset: QuerySet) -> dict:
    return queryset.aggregate(total=Sum("total_amount"), paid=Sum("paid_amount"),
                              returned=Sum("returned_amount"))
