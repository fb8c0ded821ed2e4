"""Loyalty factories and helpers: every chain starts from a tenant; points move only
through the services (the ledger is the truth)."""

import factory

from crm.access import SYSTEM
from loyalty import services
from loyalty.models import Tier
from tests.crm.factories import TenantFactory


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Hạng {n}")
    threshold = factory.Sequence(lambda n: n * 1_000)


def program_on(tenant, **terms):
    """The shop runs a program (defaults: 1 point per 10.000 ₫, 1 point = 1.000 ₫, tiers
    Đồng 0 / Bạc 1.000 / Vàng 5.000 points), with ``terms`` changed."""
    data = {"enabled": True, "earn_amount": 10_000, "point_value": 1_000}
    data.update(terms)
    channels = data.pop("channels", None)
    return services.program_save(tenant=tenant, actor=SYSTEM, data=data, channels=channels)


def give(tenant, customer, points: int, reason: str = "Tặng điểm", **kwargs):
    """Points added (or taken, when negative) by hand, as the system."""
    return services.points_adjust(tenant=tenant, actor=SYSTEM, customer=customer,
                                  delta=points, reason=reason, **kwargs)


def customer(tenant, phone: str = "0912000001", **data):
    """A customer made by the customers service (as the shop would)."""
    from customers.services import customer_create

    return customer_create(tenant=tenant, actor=SYSTEM,
                           data={"full_name": f"Khách {phone[-3:]}", "phone": phone, **data})


def order(tenant, c, total: int = 1_000_000, status: str = "delivered", paid=None, **data):
    """An order entered through the orders service; paid in full unless ``paid`` says."""
    from orders.services import order_create

    return order_create(tenant=tenant, actor=data.pop("actor", SYSTEM), customer=c, data={
        "total_amount": total, "status": status,
        "paid_amount": total if paid is None else paid, **data})


def account(c):
    """The customer's account as stored now (None when it has none)."""
    from loyalty.models import LoyaltyAccount

    return LoyaltyAccount.objects.filter(customer_id=c.pk).select_related("tier").first()


def balance(c) -> int:
    a = account(c)
    return a.balance if a else 0


def ledger(c) -> list[tuple[str, int, int]]:
    """(kind, delta, lifetime_delta) of the customer's entries, oldest first."""
    from loyalty.models import PointEntry

    return list(PointEntry.objects.filter(customer_id=c.pk).order_by("id")
                .values_list("kind", "delta", "lifetime_delta"))
