"""What the loyalty app adds to the customers app's screens (the overview card's rows) and
the demo shop's program."""

import random

from crm import access

from . import services
from .selectors import account_of


def shown(tenant) -> bool:
    """Whether the shop runs a program, asked once per request (the profile's tab list and
    its overview card both ask): remembered on the request's tenant object. Only pages
    read it; services read the program itself."""
    if not hasattr(tenant, "_loyalty_shown"):
        tenant._loyalty_shown = services.loyalty_enabled(tenant)
    return tenant._loyalty_shown


def overview_rows(customer, actor) -> dict | None:
    """Xếp hạng thành viên and Điểm thành viên on the profile card, when the shop runs a
    program (one query for the account, one more for the tiers when it has none)."""
    if not shown(customer.tenant):
        return None
    return {"account": account_of(customer),
            "can_adjust": access.can(actor, "points.adjust", customer.tenant)}


def seed_demo_program(tenant, memberships, count: int) -> int:
    """Before the demo orders: the shop runs the default program (1 point per 10.000 ₫,
    1 point = 1.000 ₫, tiers Đồng / Bạc / Vàng), so its delivered orders earn."""
    services.program_save(tenant=tenant, actor=access.SYSTEM, data={
        "enabled": True, "earn_amount": 10_000, "point_value": 1_000, "expiry_months": 12})
    return 1


def seed_demo_adjustments(tenant, memberships, count: int, seed: int = 2026) -> int:
    """After the demo orders: a few points given by hand, as a manager would."""
    from crm.models import Role
    from customers.models import Customer

    rng = random.Random(seed)
    actor = memberships.get(Role.MANAGER, access.SYSTEM)
    reasons = ["Tặng điểm sinh nhật", "Bù điểm đơn tại cửa hàng", "Khách giới thiệu bạn bè"]
    made = 0
    for customer in Customer.objects.for_tenant(tenant).order_by("pk")[: max(count // 6, 1)]:
        services.points_adjust(tenant=tenant, actor=actor, customer=customer,
                               delta=rng.choice([50, 100, 200, 500]),
                               reason=rng.choice(reasons))
        made += 1
    return made
