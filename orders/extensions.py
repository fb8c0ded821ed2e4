"""What the orders app adds to the customers app's screens: profile tabs, the totals on
the overview card, and demo orders (its customer fields are in orders/field_defs.py)."""

import datetime
import random

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import OrderStatus
from .selectors import customer_order_summary

PROFILE_TABS = [
    ("orders", _("Orders"), 20),
    ("related", _("Related orders"), 30),
    ("returns", _("Returns"), 40),
    ("debt", _("Debt"), 50),
]


def customer_totals(customer) -> dict:
    """The overview card's figures: the same summary the Đơn hàng and Công nợ tabs show."""
    summary = customer_order_summary(customer)
    return {"delivered_orders": summary.delivered_orders, "total_spend": summary.total_spend,
            "spend_3_months": summary.spend_3_months, "average_order": summary.average_order,
            "last_order_date": summary.last_order_at, "debt": summary.debt}


def seed_demo_orders(tenant, memberships, count: int, seed: int = 2026) -> int:
    """A few months of orders for the demo customers, through the services."""
    from crm import access
    from crm.models import Role
    from customers.models import Customer, Source

    from . import services

    rng = random.Random(seed)
    actor = memberships.get(Role.MANAGER, access.SYSTEM)
    channels = list(Source.objects.for_tenant(tenant).filter(parent__isnull=False))
    products = [("Trà Shan Tuyết 200g", 180_000), ("Cà phê Robusta rang xay 500g", 150_000),
                ("Trà Ô long 100g", 220_000), ("Cà phê Arabica Cầu Đất 250g", 210_000),
                ("Đậu đỏ 1kg", 60_000), ("Trà sen Tây Hồ 100g", 450_000)]
    now = timezone.now()
    made = 0
    customers = list(Customer.objects.for_tenant(tenant).order_by("pk")[: max(count // 2, 1)])
    for customer in customers:
        for _i in range(rng.randint(0, 4)):
            lines = [{"product_name": name, "sku": f"SP{k:03d}", "quantity": rng.randint(1, 5),
                      "unit_price": price}
                     for k, (name, price) in enumerate(rng.sample(products, rng.randint(1, 3)))]
            total = sum(line["quantity"] * line["unit_price"] for line in lines)
            ordered = now - datetime.timedelta(days=rng.randint(0, 150), hours=rng.randint(0, 23))
            status = rng.choice([OrderStatus.DELIVERED] * 6 + [OrderStatus.NEW,
                                OrderStatus.SHIPPING, OrderStatus.CANCELLED])
            services.order_create(tenant=tenant, actor=actor, customer=customer, lines=lines, data={
                "channel": rng.choice(channels) if channels else None, "status": status,
                "ordered_at": ordered,
                "delivered_at": ordered + datetime.timedelta(days=2)
                if status == OrderStatus.DELIVERED else None,
                "paid_amount": total if rng.random() < 0.8 else total // 2,
                "contact": {"name": customer.full_name, "phone": customer.phone},
            })
            made += 1
    # A few wholesale buyers over the VIP threshold this month.
    for customer in customers[:3]:
        services.order_create(tenant=tenant, actor=actor, customer=customer, data={
            "status": OrderStatus.DELIVERED, "total_amount": tenant.vip_threshold + 5_000_000,
            "paid_amount": tenant.vip_threshold, "note": "Đơn sỉ"})
        made += 1
    return made + _seed_money_back(tenant, actor, customers[3:6], products, now)


def _seed_money_back(tenant, actor, customers, products, now) -> int:
    """Money owed back, so that the demo shows it: an order paid by transfer then cancelled
    (Cần hoàn tiền cho khách), another one whose refund is already recorded, and a paid
    order partly returned (paid beyond its worth)."""
    from . import services

    made = 0
    for k, customer in enumerate(customers):
        name, price = products[k % len(products)]
        ordered = now - datetime.timedelta(days=6 - k)
        order = services.order_create(
            tenant=tenant, actor=actor, customer=customer,
            lines=[{"product_name": name, "sku": f"SP{k:03d}", "quantity": 3,
                    "unit_price": price}],
            data={"status": OrderStatus.DELIVERED if k == 2 else OrderStatus.CONFIRMED,
                  "ordered_at": ordered, "delivered_at": ordered + datetime.timedelta(days=1)
                  if k == 2 else None, "paid_amount": 3 * price,
                  "note": "Khách chuyển khoản trước",
                  "contact": {"name": customer.full_name, "phone": customer.phone}})
        made += 1
        if k == 2:
            services.order_return(tenant=tenant, actor=actor, order=order, amount=price,
                                  reason="Khách đổi ý, trả lại 1 gói")
            continue
        services.order_set_status(tenant=tenant, actor=actor, order=order,
                                  status=OrderStatus.CANCELLED)
        if k == 1:
            services.order_refund(tenant=tenant, actor=actor, order=order, amount=3 * price,
                                  note="Đã chuyển khoản hoàn tiền")
    return made
