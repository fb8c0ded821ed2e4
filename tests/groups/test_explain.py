"""'Vì sao?' agrees with the materialized membership a recompute wrote, for random rules
over customers that differ in every registered field (the rule engine's test shop)."""

import random

import pytest

from crm.access import SYSTEM
from customers.rules import rule_explain
from groups.models import GroupMember
from groups.services import group_recompute
from tests.customers.test_rules import random_condition, shop  # noqa: F401 -- the fixture
from tests.groups.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db


def test_explain_agrees_with_the_recomputed_membership(shop, tenant):  # noqa: F811
    rng = random.Random(2026)
    customers = shop["customers"]
    for n in range(25):
        conditions = [random_condition(rng, shop) for _i in range(rng.randint(1, 2))]
        if rng.random() < 0.5:
            conditions.append({"any": [random_condition(rng, shop) for _i in range(2)]})
        group = CustomerGroupFactory(tenant=tenant, name=f"Ngẫu nhiên {n}",
                                     rule={"conditions": conditions})
        run = group_recompute(tenant=tenant, actor=SYSTEM, group=group)
        assert run.state == "done", run.error
        members = set(GroupMember.objects.for_tenant(tenant).filter(group=group)
                      .values_list("customer_id", flat=True))
        assert run.total == len(members)
        for customer in customers:
            holds = all(e.holds for e in rule_explain(tenant, group.rule, customer))
            assert holds == (customer.pk in members), (conditions, customer)
