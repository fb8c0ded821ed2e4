"""Demo groups: what a shop builds first (a loyal-customer group by conditions, this
month's birthdays, customers gone quiet, and a fixed list of wholesale buyers), created
through the services and filled by their first recompute (Celery runs in-process)."""

from crm import access
from crm.models import Role

from .models import GroupKind, PinMode
from .services import group_create, group_pins_add

DEMO_GROUPS = [
    ("Khách thân thiết", "Từ 3 đơn đã giao và tổng chi tiêu từ 1.500.000 ₫",
     [{"field": "orders", "op": "gte", "value": 3},
      {"field": "spend", "op": "gte", "value": 1_500_000}]),
    ("Sinh nhật tháng này", "Gửi lời chúc và ưu đãi sinh nhật",
     [{"field": "birth_month", "op": "this_month", "value": None}]),
    ("Lâu không quay lại", "Hơn 30 ngày chưa mua lại: thành viên, hoặc đã chi từ 1.000.000 ₫",
     [{"field": "days_since_purchase", "op": "gte", "value": 31},
      {"any": [{"field": "membership", "op": "in", "value": ["active"]},
               {"field": "spend", "op": "gte", "value": 1_000_000}]}]),
]


def seed_demo_groups(tenant, memberships, count: int) -> int:
    from customers.models import Customer

    actor = memberships.get(Role.MANAGER, access.SYSTEM)
    made = 0
    for name, description, conditions in DEMO_GROUPS:
        group_create(tenant=tenant, actor=actor, data={
            "name": name, "description": description, "kind": GroupKind.RULE,
            "rule": {"conditions": conditions}})
        made += 1
    wholesale = group_create(tenant=tenant, actor=actor, data={
        "name": "Khách sỉ", "description": "Đại lý và quán mua số lượng lớn",
        "kind": GroupKind.FIXED})
    ids = list(Customer.objects.for_tenant(tenant).order_by("pk").values_list("pk", flat=True)[:3])
    group_pins_add(tenant=tenant, actor=actor, group=wholesale, customer_ids=ids,
                   mode=PinMode.INCLUDE)
    return made + 1
