"""Loyalty's fields in the customer field registry (points, lifetime points, tier), through
the rule engine the lists, groups and reports use. A customer without an account has 0
points and the tier that starts at 0."""

import pytest
from django.core.exceptions import ValidationError

from customers.fields import get_field, value_of
from customers.models import Customer
from customers.rules import rule_customers, rule_explain, rule_validate
from loyalty.models import Tier
from tests.loyalty.factories import customer, give, program_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenant):
    """none: no account; low: 200 points (Đồng); silver: 1.500 (Bạc); gold: 6.000 earned,
    5.500 used by hand (lifetime 500, Vàng kept: tiers do not drop by default)."""
    program_on(tenant)
    none = customer(tenant, "0912000001")
    low, silver, gold = (customer(tenant, f"091200000{i}") for i in (2, 3, 4))
    give(tenant, low, 200)
    give(tenant, silver, 1_500)
    give(tenant, gold, 6_000)
    give(tenant, gold, -5_500)
    return {"none": none, "low": low, "silver": silver, "gold": gold}


def codes(tenant, field, op, value=None) -> set[str]:
    rule = {"conditions": [{"field": field, "op": op, "value": value}]}
    return set(rule_customers(tenant, rule).values_list("code", flat=True))


def names(people, *keys) -> set[str]:
    return {people[k].code for k in keys}


def tier(tenant, name) -> int:
    return Tier.objects.get(tenant=tenant, name=name).pk


def test_points_and_lifetime_points(tenant, people):
    assert codes(tenant, "points", "gte", 500) == names(people, "silver", "gold")
    assert codes(tenant, "points", "lte", 200) == names(people, "none", "low")
    assert codes(tenant, "points", "eq", 0) == names(people, "none")
    assert codes(tenant, "points", "between", [100, 600]) == names(people, "low", "gold")
    assert codes(tenant, "lifetime_points", "gte", 1_000) == names(people, "silver")
    assert codes(tenant, "lifetime_points", "lt", 600) == names(people, "none", "low", "gold")


def test_tier_counts_customers_without_account_in_the_tier_that_starts_at_0(tenant, people):
    bronze, silver, gold = (tier(tenant, n) for n in ("Đồng", "Bạc", "Vàng"))
    assert codes(tenant, "tier", "in", [bronze]) == names(people, "none", "low")
    assert codes(tenant, "tier", "in", [gold]) == names(people, "gold")
    assert codes(tenant, "tier", "in", [silver, gold]) == names(people, "silver", "gold")
    assert codes(tenant, "tier", "not_in", [bronze]) == names(people, "silver", "gold")
    assert codes(tenant, "tier", "not_in", [gold]) == names(people, "none", "low", "silver")


def test_the_value_a_list_and_vi_sao_show_agrees_with_the_rule(tenant, people):
    entry = get_field("tier")
    loaded = {c.code: c for c in Customer.objects.for_tenant(tenant)
              .select_related(*entry.related)}
    assert value_of(entry, loaded[people["none"].code]).name == "Đồng"
    assert value_of(entry, loaded[people["gold"].code]).name == "Vàng"
    assert value_of(get_field("points"), loaded[people["none"].code]) == 0
    rule = {"conditions": [{"field": "tier", "op": "in", "value": [tier(tenant, "Đồng")]},
                           {"field": "points", "op": "lte", "value": 0}]}
    explained = rule_explain(tenant, rule, people["none"])
    assert all(item.holds for item in explained)


def test_another_shops_tier_is_refused(tenant, other_tenant, people):
    program_on(other_tenant)
    theirs = tier(other_tenant, "Vàng")
    with pytest.raises(ValidationError):
        rule_validate(tenant, {"conditions": [{"field": "tier", "op": "in", "value": [theirs]}]})
