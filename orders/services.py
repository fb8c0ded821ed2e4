"""Every write to orders. Each service updates the customer's aggregates in the same
transaction (the stats row locked first), writes an audit row and applies the lifecycle
rules (first delivered order -> Đã mua hàng; a month's spend over the shop's threshold ->
VIP)."""

import datetime
import uuid
from contextlib import contextmanager

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.access import AccessDenied
from crm.audit import audit_record
from crm.models import Tenant, TenantSequence
from crm.money import format_money
from customers import services as customer_services
from customers.models import Customer, LifecycleStage, Source
from customers.normalize import normalize_email, normalize_phone
from customers.selectors import can_see_customer, contact_owners

from . import stats as aggregates
from .models import CustomerStats, MonthlySpend, Order, OrderLine, OrderStatus, Payment, Return
from .signals import aggregates_recomputed, order_contribution_changed, order_points_value

# Which status changes staff and channels may make. Returned is reached through returns.
STATUS_TRANSITIONS = {
    OrderStatus.NEW: {OrderStatus.CONFIRMED, OrderStatus.SHIPPING, OrderStatus.DELIVERED,
                      OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.SHIPPING, OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPING: {OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.DELIVERED: {OrderStatus.CANCELLED},
    OrderStatus.CANCELLED: {OrderStatus.NEW, OrderStatus.CONFIRMED},
    OrderStatus.RETURNED: set(),
}


def status_action(current: str, target: str) -> str:
    """The access table's action for a status change: cancelling an order, or bringing a
    cancelled one back, is a manager's decision; moving it along is everyday work."""
    if OrderStatus.CANCELLED in (current, target):
        return "order.cancel"
    return "order.set_status"


def order_code(number: int) -> str:
    return f"DH{number:06d}"


@contextmanager
def _tracking(order: Order, actor):
    """Lock the stats of the order's customer(s), let the caller change and save the order,
    then move the aggregates from the old to the new contribution and announce the change
    (``order_contribution_changed``, inside this transaction: a receiver's refusal, such
    as points redeemed over the balance, undoes the whole change)."""
    before_customer = order.customer
    old = aggregates.contribution(order)
    customers = {before_customer.pk: before_customer} if before_customer else {}
    yield
    after_customer = order.customer
    if after_customer is not None:
        customers[after_customer.pk] = after_customer
    new = aggregates.contribution(order)
    nothing = aggregates.NOTHING
    for pk in sorted(customers):  # a fixed lock order: no deadlock between two services
        customer = customers[pk]
        was = old if before_customer and before_customer.pk == pk else nothing
        now = new if after_customer and after_customer.pk == pk else nothing
        moved = aggregates.apply(customer, was, now, order.tenant)
        if moved.months_changed or was.delivered != now.delivered:
            # A payment or a change that leaves deliveries and months alone cannot move
            # the stage: no need to read it.
            lifecycle_refresh(customer, moved.delivered_orders,
                              months_changed=moved.months_changed, tenant=order.tenant)
    if old != new or before_customer != after_customer:
        order_contribution_changed.send(sender=Order, tenant=order.tenant, order=order,
                                        before=old, after=new, actor=actor)


def _lock_order(order: Order, tenant: Tenant, actor, action: str) -> Order:
    """The order row locked for this transaction, after the access table's answer for
    ``action``; another shop's order, or the order of a customer the actor may not see, is
    refused."""
    access.require(actor, action, tenant)
    order = (Order.objects.select_for_update(of=("self",))
             .select_related("customer", "channel").get(pk=order.pk))
    if order.tenant_id != tenant.pk:
        raise ValidationError(_("This order belongs to another shop."))
    if not can_see_order(actor, order):
        raise AccessDenied(action, _("This order's customer is not assigned to you."))
    order.tenant = tenant  # already checked: no query for it later
    if order.customer is not None:
        order.customer.tenant = tenant
    return order


def _set_delivery(order: Order, when: datetime.datetime | None) -> None:
    """Delivered orders carry their delivery time and month; a returned order keeps them."""
    if order.status == OrderStatus.DELIVERED:
        order.delivered_at = when or order.delivered_at or timezone.now()
        order.delivered_month = aggregates.month_start(order.delivered_at)
    elif order.status != OrderStatus.RETURNED:
        order.delivered_at = None
        order.delivered_month = None


# --- lifecycle ------------------------------------------------------------------------------

def vip_qualifies(customer: Customer, tenant: Tenant) -> bool:
    return MonthlySpend.objects.filter(
        customer_id=customer.pk, month__gte=aggregates.vip_window_start(tenant),
        spend__gte=tenant.vip_threshold).exists()


def lifecycle_refresh(customer: Customer, delivered_orders: int, months_changed: bool = True,
                      tenant: Tenant | None = None) -> None:
    """Tell the customers app the facts its lifecycle rule reads: has the customer a
    delivered order, and (only when a month's spend changed: a payment never makes or
    unmakes a VIP) does a month of the VIP window pass the threshold."""
    tenant = tenant or customer.tenant
    customer_services.customer_lifecycle_follow(
        tenant=tenant, customer=customer, bought=delivered_orders > 0,
        vip=vip_qualifies(customer, tenant) if months_changed else None)


# --- matching an order to a customer --------------------------------------------------------

def match_customer(tenant, phone: str, email: str) -> tuple[Customer | None, bool]:
    """(customer, ambiguous): the customer whose phone or email the order carries.

    Ambiguous when the phone and the email belong to two different customers: the order
    stays unlinked and shows under "Đơn liên quan" on both profiles.
    """
    by_phone, by_email = contact_owners(tenant, phones=[phone], emails=[email])
    found = {row.customer.pk: row.customer for row in (by_phone, by_email) if row}
    if len(found) > 1:
        return None, True
    return (next(iter(found.values())) if found else None), False


# --- the order services ---------------------------------------------------------------------

def can_see_order(actor, order: Order) -> bool:
    """An order is visible with its customer; an order without a customer only to those
    who see every customer of the shop."""
    if order.customer is not None:
        return can_see_customer(actor, order.customer)
    return access.customer_visibility(actor) is access.Visibility.ALL


def _check_order_customer_visible(actor, customer: Customer | None) -> None:
    """Whoever does not see every customer ends with an order on one they see: a contact
    that belongs to (or matches) someone else's customer is refused, without saying whose
    (the order would otherwise change that customer's figures and stage, and vanish from
    its author's sight)."""
    if customer is not None and can_see_customer(actor, customer):
        return
    if customer is None and access.customer_visibility(actor) is access.Visibility.ALL:
        return
    raise ValidationError({"contact_phone": _(
        "This contact belongs to another customer of this shop, not assigned to you. Ask a "
        "manager to enter the order.")})


def _require_customer(actor, action: str, customer: Customer | None) -> None:
    if customer is not None and not can_see_customer(actor, customer):
        raise AccessDenied(action, _("This customer is not assigned to you."))


def _clean_contact(contact: dict) -> dict:
    phone = (contact.get("phone") or "").strip()
    try:
        normalized = normalize_phone(phone) if phone else ""
    except ValidationError as exc:
        raise ValidationError({"contact_phone": exc.messages}) from exc
    return {"contact_name": (contact.get("name") or "").strip()[:200],
            "contact_phone": phone, "contact_phone_normalized": normalized,
            "contact_email": normalize_email(contact.get("email") or ""),
            "contact_address": (contact.get("address") or "").strip()[:255]}


@transaction.atomic
def order_create(*, tenant, actor, data: dict, lines: list[dict] | None = None,
                 customer: Customer | None = None) -> Order:
    """Record an order. ``data``: channel, external_id, status, ordered_at, delivered_at,
    total_amount (computed from lines when missing), discount, shipping_fee, paid_amount,
    note, contact {name, phone, email, address}. Without ``customer`` the order is linked
    by its contact when that is unambiguous, or creates a walk-in customer (shop setting).
    """
    access.require(actor, "order.create", tenant)
    _require_customer(actor, "order.create", customer)
    lines = lines or []
    channel = data.get("channel")
    if channel is not None and channel.tenant_id != tenant.pk:
        raise ValidationError({"channel": _("This channel belongs to another shop.")})
    if customer is not None and customer.tenant_id != tenant.pk:
        raise ValidationError({"customer": _("This customer belongs to another shop.")})
    contact_in = data.get("contact") or {}
    if customer is not None and not any(contact_in.values()):
        # A phone order for a known customer: the order keeps their contact of today.
        contact_in = {"name": customer.full_name, "phone": customer.phone,
                      "email": customer.email, "address": customer.address_display}
    contact = _clean_contact(contact_in)
    points = int(data.get("points_redeemed") or 0)
    points_discount = _points_value(tenant, actor, points)
    total = data.get("total_amount")
    if total is None:
        total = sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines) \
            - int(data.get("discount") or 0) - points_discount \
            + int(data.get("shipping_fee") or 0)
        if points and total < 0:
            raise ValidationError({"points_redeemed": _(
                "These points are worth more than the order (%(value)s đồng).") % {
                "value": format_money(points_discount)}})
    status = data.get("status") or OrderStatus.NEW
    if status == OrderStatus.RETURNED:
        raise ValidationError({"status": _("Record a return on a delivered order instead.")})
    if status == OrderStatus.CANCELLED:
        access.require(actor, "order.cancel", tenant)
    paid = int(data.get("paid_amount") or 0)
    if paid > total:
        raise ValidationError({"paid_amount": _("Paid is more than the order total.")})

    if customer is None and (contact["contact_phone_normalized"] or contact["contact_email"]):
        customer, ambiguous = match_customer(tenant, contact["contact_phone_normalized"],
                                             contact["contact_email"])
        if customer is None and not ambiguous and tenant.auto_create_guest_customers:
            customer = _guest_from_contact(tenant, actor, contact, channel)
    _check_order_customer_visible(actor, customer)
    if points and customer is None:
        raise ValidationError({"points_redeemed": _(
            "Points can be used only on an order of a known customer.")})

    (number,) = TenantSequence.next_values(tenant, "order")
    order = Order(tenant=tenant, number=number, code=order_code(number), channel=channel,
                  external_id=(data.get("external_id") or "").strip(), status=status,
                  ordered_at=data.get("ordered_at") or timezone.now(),
                  total_amount=total, discount=int(data.get("discount") or 0),
                  shipping_fee=int(data.get("shipping_fee") or 0), paid_amount=paid,
                  points_redeemed=points, points_discount=points_discount,
                  note=data.get("note") or "", created_by=access.user_of(actor), **contact)
    _set_delivery(order, data.get("delivered_at"))
    order.full_clean(exclude=["customer"])
    with _tracking(order, actor):
        order.customer = customer
        order.save()
        OrderLine.objects.bulk_create(
            OrderLine(tenant=tenant, order=order, product_name=line["product_name"],
                      sku=line.get("sku", ""), quantity=int(line["quantity"]),
                      unit_price=int(line["unit_price"]))
            for line in lines)
        if paid:
            Payment.objects.create(tenant=tenant, order=order, amount=paid,
                                   paid_at=order.ordered_at, created_by=access.user_of(actor),
                                   note=_("Paid when ordering"))
    audit_record(tenant, actor, "order.create", order, after={
        "code": order.code, "status": status, "total_amount": total,
        "customer": customer.code if customer else None,
        **({"points_redeemed": points} if points else {})})
    return order


def _points_value(tenant, actor, points: int) -> int:
    """What ``points`` take off an order, in đồng, as the shop's loyalty program prices
    them (``order_points_value``); refused without a program or the access."""
    if points == 0:
        return 0
    if points < 0:
        raise ValidationError({"points_redeemed": _("Enter a number of points above 0.")})
    access.require(actor, "points.redeem", tenant)
    answers = [value for _receiver, value in
               order_points_value.send(sender=Order, tenant=tenant, points=points)
               if value is not None]
    if not answers:
        raise ValidationError({"points_redeemed": _(
            "This shop does not run a loyalty program: points cannot be used.")})
    return int(answers[0])


def points_price(tenant) -> int | None:
    """What one loyalty point takes off an order in this shop, in đồng (the
    ``order_points_value`` answer for 1 point); None when the shop runs no program. A read
    for the order form ("1 điểm = 1.000 ₫") and the API: nothing is checked or written."""
    try:
        answers = [value for _receiver, value in
                   order_points_value.send(sender=Order, tenant=tenant, points=1)
                   if value is not None]
    except ValidationError:  # the loyalty app's answer when its program is off
        return None
    return int(answers[0]) if answers else None


def _guest_from_contact(tenant, actor, contact, channel) -> Customer:
    return customer_services.customer_create(tenant=tenant, actor=actor, data={
        "full_name": contact["contact_name"] or contact["contact_phone"]
        or contact["contact_email"],
        "phone": contact["contact_phone"], "email": contact["contact_email"],
        "street": contact["contact_address"], "source": channel,
    })


@transaction.atomic
def order_set_status(*, tenant, actor, order: Order, status: str,
                     delivered_at: datetime.datetime | None = None) -> Order:
    order = _lock_order(order, tenant, actor, "order.set_status")
    if status == order.status:
        return order
    access.require(actor, status_action(order.status, status), tenant)
    if status not in STATUS_TRANSITIONS.get(order.status, set()):
        raise ValidationError({"status": _("An order cannot go from “%(a)s” to “%(b)s”.") % {
            "a": OrderStatus(order.status).label, "b": OrderStatus(status).label}})
    before = order.status
    with _tracking(order, actor):
        order.status = status
        _set_delivery(order, delivered_at)
        order.save()
    audit_record(tenant, actor, "order.status", order, before={"status": before},
                 after={"status": status})
    return order


@transaction.atomic
def order_record_payment(*, tenant, actor, order: Order, amount: int,
                         paid_at: datetime.datetime | None = None, note: str = "") -> Payment:
    order = _lock_order(order, tenant, actor, "order.record_payment")
    if amount <= 0:
        raise ValidationError({"amount": _("Enter an amount above 0.")})
    if order.paid_amount + amount > order.total_amount - order.returned_amount:
        raise ValidationError({"amount": _("This pays more than is owed (%(owed)s đồng).") % {
            "owed": format_money(order.total_amount - order.returned_amount
                                 - order.paid_amount)}})
    with _tracking(order, actor):
        order.paid_amount += amount
        order.save(update_fields=["paid_amount", "updated_at"])
        payment = Payment.objects.create(tenant=tenant, order=order, amount=amount,
                                         paid_at=paid_at or timezone.now(), note=note,
                                         created_by=access.user_of(actor))
    audit_record(tenant, actor, "order.payment", order, after={"amount": amount,
                                                               "paid_amount": order.paid_amount})
    return payment


@transaction.atomic
def order_refund(*, tenant, actor, order: Order, amount: int, note: str = "",
                 refunded_at: datetime.datetime | None = None) -> Payment:
    """Money given back to the customer: what was paid on a cancelled order, or paid beyond
    a delivered order's worth after a return (``Order.refund_due``). Recorded as a negative
    payment, so ``paid_amount`` stays what the shop keeps; debt and spend do not move."""
    order = _lock_order(order, tenant, actor, "order.refund")
    due = order.refund_due
    if due <= 0:
        raise ValidationError(_("Nothing is owed back to the customer on this order."))
    if amount <= 0 or amount > due:
        raise ValidationError({"amount": _("A refund is between 1 đồng and what is owed back "
                                           "(%(due)s đồng).") % {
            "due": format_money(due)}})
    with _tracking(order, actor):
        order.paid_amount -= amount
        order.save(update_fields=["paid_amount", "updated_at"])
        payment = Payment.objects.create(tenant=tenant, order=order, amount=-amount,
                                         paid_at=refunded_at or timezone.now(),
                                         note=note or _("Refund to the customer"),
                                         created_by=access.user_of(actor))
    audit_record(tenant, actor, "order.refund", order, after={
        "amount": amount, "paid_amount": order.paid_amount, "note": note})
    return payment


@transaction.atomic
def order_return(*, tenant, actor, order: Order, amount: int, reason: str = "",
                 returned_at: datetime.datetime | None = None) -> Return:
    """Goods sent back: the amount leaves spend; a fully returned order stops counting."""
    order = _lock_order(order, tenant, actor, "order.return")
    if order.status != OrderStatus.DELIVERED:
        raise ValidationError(_("Only a delivered order can be returned."))
    if amount <= 0 or order.returned_amount + amount > order.total_amount:
        raise ValidationError({"amount": _("A return is between 1 đồng and what is left of "
                                           "the order (%(left)s đồng).") % {
            "left": format_money(order.total_amount - order.returned_amount)}})
    with _tracking(order, actor):
        order.returned_amount += amount
        if order.returned_amount == order.total_amount:
            order.status = OrderStatus.RETURNED
        order.save(update_fields=["returned_amount", "status", "updated_at"])
        row = Return.objects.create(tenant=tenant, order=order, amount=amount, reason=reason,
                                    returned_at=returned_at or timezone.now(),
                                    created_by=access.user_of(actor))
    audit_record(tenant, actor, "order.return", order, after={
        "amount": amount, "reason": reason, "status": order.status})
    return row


@transaction.atomic
def order_link_customer(*, tenant, actor, order: Order, customer: Customer | None) -> Order:
    """Attach the order to a customer (or detach it); both customers' stats follow."""
    if customer is not None and customer.tenant_id != tenant.pk:
        raise ValidationError(_("The order and the customer must belong to this shop."))
    _require_customer(actor, "order.link_customer", customer)
    order = _lock_order(order, tenant, actor, "order.link_customer")
    before = order.customer.code if order.customer else None
    if order.customer_id == (customer.pk if customer else None):
        return order
    with _tracking(order, actor):
        order.customer = customer
        order.save(update_fields=["customer", "updated_at"])
    audit_record(tenant, actor, "order.link", order, before={"customer": before},
                 after={"customer": customer.code if customer else None})
    return order


# --- recompute and the nightly rules ---------------------------------------------------------

RECOMPUTE_BATCH = 50_000


def _progress_key(tenant_id: int, job_id: str) -> str:
    # The shop is part of the key: a job id seen in one shop reads nothing in another.
    return f"orders:recompute:{tenant_id}:{job_id}"


def recompute_progress(tenant, job_id: str) -> dict | None:
    return cache.get(_progress_key(tenant.pk, job_id))


def aggregates_recompute_request(*, tenant, actor) -> str:
    """Queue a recompute of the shop's order figures (after commit); returns the job id
    whose progress recompute_progress reports."""
    from . import tasks

    access.require(actor, "stats.recompute", tenant)
    job = uuid.uuid4().hex
    cache.set(_progress_key(tenant.pk, job),
              {"done": 0, "total": 0, "changed": 0, "finished": False}, 3600)
    tenant_id = tenant.pk
    transaction.on_commit(lambda: tasks.aggregates_recompute.delay(tenant_id, job_id=job))
    audit_record(tenant, actor, "stats.recompute", None, after={"job": job})
    return job


ANALYZE_AFTER_CHANGES = 10_000


def aggregates_recompute(*, tenant_id: int, customer_ids=None, job_id: str | None = None,
                         batch: int = RECOMPUTE_BATCH) -> int:
    """Recompute every customer's aggregates set-based, batch by batch of customer ids
    (each batch its own transaction, so a failed run can simply be run again). Reports
    progress under ``job_id`` and returns how many stats rows changed."""
    tenant = Tenant.objects.get(pk=tenant_id)
    customers = Customer.objects.filter(tenant=tenant)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    bounds = customers.aggregate(lo=Min("pk"), hi=Max("pk"))
    changed = 0
    progress = {"done": 0, "total": 0, "changed": 0, "finished": False}
    if bounds["lo"] is not None:
        lo, hi = bounds["lo"], bounds["hi"]
        progress["total"] = hi - lo + 1
        ids = list(customer_ids) if customer_ids is not None else None
        for start in range(lo, hi + 1, batch):
            end = min(start + batch - 1, hi)
            with transaction.atomic():
                changed += aggregates.recompute_batch(tenant, start, end, customer_ids=ids)
            progress.update(done=end - lo + 1, changed=changed)
            if job_id:
                cache.set(_progress_key(tenant.pk, job_id), progress, 3600)
    if changed >= ANALYZE_AFTER_CHANGES and connection.vendor == "postgresql":
        # Fresh planner statistics for the recompute's own joins and the list's sorts
        # (autovacuum would get there, later; with it off, never).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_customerstats, orders_monthlyspend")
    progress.update(finished=True, changed=changed, done=progress["total"])
    if job_id:
        cache.set(_progress_key(tenant.pk, job_id), progress, 3600)
    aggregates_recomputed.send(sender=CustomerStats, tenant=tenant, changed=changed)
    return changed


@transaction.atomic
def lifecycle_recompute(*, tenant: Tenant) -> dict:
    """Nightly: VIP back to Đã mua hàng when no month of the window qualifies any more;
    VIP / Đã mua hàng for customers whose stats say so (repairs any drift)."""
    window = MonthlySpend.objects.filter(customer_id=OuterRef("pk"),
                                         month__gte=aggregates.vip_window_start(tenant),
                                         spend__gte=tenant.vip_threshold)
    customers = Customer.objects.for_tenant(tenant)
    expired = list(customers.filter(lifecycle_stage=LifecycleStage.VIP)
                   .exclude(Exists(window)).values_list("pk", flat=True))
    promoted = list(customers.exclude(lifecycle_stage=LifecycleStage.VIP)
                    .filter(Exists(window)).values_list("pk", flat=True))
    bought = Exists(CustomerStats.objects.filter(customer_id=OuterRef("pk"),
                                                 delivered_orders__gt=0))
    purchased = list(customers.filter(lifecycle_stage__in=[LifecycleStage.NEW,
                                                           LifecycleStage.POTENTIAL])
                     .filter(bought).exclude(pk__in=promoted).values_list("pk", flat=True))
    for ids, stage in ((expired, LifecycleStage.PURCHASED), (promoted, LifecycleStage.VIP),
                       (purchased, LifecycleStage.PURCHASED)):
        customer_services.customers_set_lifecycle(tenant=tenant, ids=ids, stage=stage)
    return {"vip_expired": len(expired), "vip_promoted": len(promoted),
            "purchased": len(purchased)}


def channel_by_code(tenant, code: str) -> Source | None:
    return Source.objects.for_tenant(tenant).filter(code=code, is_active=True).first()
