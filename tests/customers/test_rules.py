"""The rule engine: every registered field x each of its operators, compiled to SQL, agrees
with the customer's value read in Python (the value "Vì sao?" shows); refusals; another
shop's ids; explain agrees with membership for random rules. Runs on SQLite and, in CI,
on PostgreSQL."""

import datetime
import random

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.access import SYSTEM
from customers.fields import OPERATORS, FieldType, customer_fields, rule_fields, value_of
from customers.models import Customer, CustomerNote, CustomerTag
from customers.rules import (
    rule_customers,
    rule_describe,
    rule_explain,
    rule_target,
    rule_validate,
)
from tests.customers.factories import (
    CareStatusFactory,
    CustomerFactory,
    SourceFactory,
    TagFactory,
    TagGroupFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(n: int, hour: int = 10) -> datetime.datetime:
    day = TODAY - datetime.timedelta(days=n)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def shop(tenant, staff, collaborator):
    """Customers that differ in every field the registry knows."""
    from orders.services import order_create

    group = TagGroupFactory(tenant=tenant, name="Ngành hàng")
    tags = [TagFactory(tenant=tenant, name=f"Thẻ {i}", group=group if i < 2 else None)
            for i in range(3)]
    statuses = [CareStatusFactory(tenant=tenant, name=f"TT {i}") for i in range(2)]
    parent = SourceFactory(tenant=tenant, name="Sàn TMĐT")
    channels = [SourceFactory(tenant=tenant, name="Shopee", parent=parent),
                SourceFactory(tenant=tenant, name="Website")]
    people = []
    year = TODAY.year
    specs = [
        dict(gender="female", birth_year=year - 30, birth_month=TODAY.month, birth_day=1,
             province_code=79, care_status=statuses[0], source=channels[0],
             assigned_staff=staff, lifecycle_stage="purchased", membership_state="active",
             email="lan@example.vn", company="Công ty Lan"),
        dict(gender="male", birth_year=year - 45, birth_month=TODAY.month % 12 + 1,
             birth_day=2, province_code=1, care_status=statuses[1], source=channels[1],
             collaborator=collaborator, lifecycle_stage="vip", membership_state="pending"),
        dict(gender="", birth_month=None, province_code=None, care_status=None, source=None,
             lifecycle_stage="new", membership_state="guest"),
        dict(gender="female", birth_year=year - 18, birth_month=3, birth_day=3,
             province_code=79, source=parent, lifecycle_stage="potential",
             membership_state="cancelled", company=""),
        dict(gender="male", birth_year=year - 60, birth_month=12, birth_day=4,
             care_status=statuses[0], assigned_staff=staff, membership_state="active"),
    ]
    for i, spec in enumerate(specs):
        people.append(CustomerFactory(tenant=tenant, full_name=f"Khách {i} Nguyễn", **spec))
    Customer.objects.filter(pk=people[0].pk).update(referrer=people[1])
    for customer, held in zip(people, [[0, 1], [1], [], [2], [0, 2]], strict=True):
        for k in held:
            CustomerTag.objects.create(tenant=tenant, customer=customer, tag=tags[k])
    for customer, days in [(people[0], 3), (people[1], 45), (people[3], 200)]:
        note = CustomerNote.objects.create(tenant=tenant, customer=customer, body="Gọi")
        CustomerNote.objects.filter(pk=note.pk).update(created_at=days_ago(days))
    # The shop runs a loyalty program before its orders, so that they earn points.
    from loyalty.models import Tier
    from tests.loyalty.factories import give, program_on

    program_on(tenant)
    # Orders: 0 -> 3 delivered recent; 1 -> one old and one unpaid; 3 -> one long ago.
    for customer, ago, amount, paid in [(people[0], 2, 700_000, 700_000),
                                        (people[0], 20, 500_000, 500_000),
                                        (people[0], 100, 400_000, 400_000),
                                        (people[1], 40, 2_000_000, 500_000),
                                        (people[3], 400, 90_000, 90_000)]:
        order_create(tenant=tenant, actor=SYSTEM, customer=customer, data={
            "status": "delivered", "total_amount": amount, "paid_amount": paid,
            "ordered_at": days_ago(ago + 1), "delivered_at": days_ago(ago)})
    # Points: 0 earned 160 (Đồng); 1 earned 50, was given 6.000 and 5.800 taken back
    # (lifetime 250, Vàng kept); 3 earned 9; 4 was given 1.500 (Bạc); 2 has no account.
    give(tenant, people[1], 6_000)
    give(tenant, people[1], -5_800)
    give(tenant, people[4], 1_500)
    tiers = {t.name: t for t in Tier.objects.for_tenant(tenant)}
    return {"customers": people, "tiers": tiers, "tags": tags, "statuses": statuses,
            "parent": parent, "channels": channels, "staff": staff,
            "collaborator": collaborator}


# --- the oracle: the operator applied in Python to the customer's value ---------------------

def _key(v):
    return getattr(v, "pk", v)


def _local_date(v):
    if isinstance(v, datetime.datetime):
        return timezone.localdate(v)
    return v


def python_holds(entry, op, value, actual) -> bool:
    kind = entry.type
    if op in ("empty", "not_empty"):
        empty = actual in (None, "", []) or (kind == FieldType.CHOICE and actual == "unknown")
        return empty if op == "empty" else not empty
    if kind in (FieldType.NUMBER, FieldType.MONEY, FieldType.DAYS):
        if op == "never":
            return actual is None
        if actual is None:
            return False
        if op == "between":
            return value[0] <= actual <= value[1]
        return {"eq": actual == value, "neq": actual != value, "gte": actual >= value,
                "lte": actual <= value, "gt": actual > value, "lt": actual < value}[op]
    if kind == FieldType.DATE:
        day = _local_date(actual)
        if day is None:
            return False
        low, high = {"on": (value, value), "from": (value, None), "to": (None, value),
                     "between": tuple(value or (None, None))}[op]
        return (low is None or day >= datetime.date.fromisoformat(low)) and \
            (high is None or day <= datetime.date.fromisoformat(high))
    if kind == FieldType.MONTH:
        if op == "this_month":
            return actual == TODAY.month
        if op == "next_month":
            return actual == TODAY.month % 12 + 1
        return actual in value
    if kind in (FieldType.CHOICE, FieldType.RELATION):
        inside = _key(actual) in value or (
            entry.key == "source" and actual is not None and actual.parent_id in value)
        return inside if op == "in" else not inside
    if kind == FieldType.MULTI:
        held = {_key(t) for t in actual}
        return {"any": bool(held & set(value)), "all": set(value) <= held,
                "none": not held & set(value)}[op]
    if kind == FieldType.BOOLEAN:
        return bool(actual) == (op == "yes")
    if kind == FieldType.RECENT:
        if actual is None:
            since_ok = False
        elif entry.key == "ordered":
            from dateutil.relativedelta import relativedelta

            since_ok = actual >= timezone.now() - relativedelta(months=value)
        else:
            since_ok = actual >= timezone.now() - datetime.timedelta(days=value)
        return since_ok if op == "within" else not since_ok
    if kind == FieldType.TEXT:
        text = (actual or "").lower()
        return {"contains": value.lower() in text, "not_contains": value.lower() not in text,
                "eq": text == value.lower(), "starts_with": text.startswith(value.lower())}[op]
    raise AssertionError(kind)


def sample_values(entry, op, shop) -> list:
    """Values worth trying for ``op`` on ``entry``: around the shop's data."""
    arity = OPERATORS[op].arity
    if arity == 0:
        return [None]
    kind = entry.type
    if kind in (FieldType.NUMBER, FieldType.DAYS):
        numbers = {"age": [18, 30, 45], "orders": [0, 1, 3], "days_since_purchase": [2, 30, 400],
                   "points": [0, 160, 1_500], "lifetime_points": [0, 250, 1_500]}
        picks = numbers.get(entry.key, [0, 1, 3])
        return [[picks[0], picks[1]]] if arity == 2 else picks
    if kind == FieldType.MONEY:
        return [[0, 1_000_000]] if arity == 2 else [0, 500_000, 1_500_000]
    if kind == FieldType.DATE:
        days = [TODAY - datetime.timedelta(days=n) for n in (2, 40, 400)]
        if arity == 2:
            return [[days[1].isoformat(), days[0].isoformat()]]
        return [d.isoformat() for d in days]
    if kind == FieldType.RECENT:
        return [1, 2, 12] if entry.key == "ordered" else [7, 60]
    if kind == FieldType.MONTH:
        return [[TODAY.month], [3, 12]]
    if kind == FieldType.TEXT:
        if entry.key == "code":
            return [shop["customers"][1].code, "KH", shop["customers"][1].code[-2:]]
        return ["nguyễn", "lan", "khách 1"] if entry.key in ("name", "email", "company") \
            else []
    if entry.key == "tags":
        t = shop["tags"]
        return [[t[0].pk], [t[0].pk, t[1].pk]]
    if entry.key == "care_status":
        return [[shop["statuses"][0].pk]]
    if entry.key == "source":
        return [[shop["parent"].pk], [shop["channels"][1].pk]]
    if entry.key == "staff":
        return [[shop["staff"].pk]]
    if entry.key == "collaborator":
        return [[shop["collaborator"].pk]]
    if entry.key == "tier":
        t = shop["tiers"]
        return [[t["Đồng"].pk], [t["Bạc"].pk, t["Vàng"].pk], [t["Vàng"].pk]]
    if kind == FieldType.CHOICE:
        values = [v for v, _l, _g in entry.choices(None)]
        return [values[:1], values[1:3]]
    return []


# Fields whose meaning is not a plain comparison of their value (tested on their own).
OWN_TESTS = {"keyword", "phone", "bought", "group"}


def cases():
    return [(f.key, op) for f in rule_fields() if f.key not in OWN_TESTS
            for op in f.operator_keys]


@pytest.mark.parametrize(("key", "op"), cases())
def test_every_field_and_operator_agrees_with_the_value(shop, tenant, key, op):
    from customers.fields import get_field

    entry = get_field(key)
    customers = list(Customer.objects.for_tenant(tenant).select_related(
        *{p for f in customer_fields() for p in f.related}).order_by("pk"))
    values = sample_values(entry, op, shop)
    assert values, f"no sample for {key} {op}"
    for value in values:
        rule = {"conditions": [{"field": key, "op": op, "value": value}]}
        got = set(rule_customers(tenant, rule).values_list("pk", flat=True))
        want = {c.pk for c in customers
                if python_holds(entry, op, value, value_of(entry, c))}
        assert got == want, (key, op, value)
        assert {row["id"] for row in rule_target(tenant, rule)} == want, (key, op, value)


def test_the_seed_example_spend_and_order_count(shop, tenant):
    rule = {"conditions": [{"field": "orders", "op": "gte", "value": 3},
                           {"field": "spend", "op": "gte", "value": "1.500.000"}]}
    assert list(rule_customers(tenant, rule)) == [shop["customers"][0]]
    assert rule_validate(tenant, rule)["conditions"][1]["value"] == 1_500_000
    assert rule_describe(tenant, rule)[1].endswith("≥ 1.500.000 ₫")


def test_null_semantics_of_order_fields(shop, tenant):
    never = shop["customers"][2]

    def matches(op, value, key):
        return never in rule_customers(
            tenant, {"conditions": [{"field": key, "op": op, "value": value}]})

    assert matches("lte", 0, "orders") and matches("lte", 100_000, "spend")
    assert not matches("gte", 1, "orders") and not matches("gte", 0, "days_since_purchase")
    assert matches("never", None, "days_since_purchase")
    assert matches("not_within", 3, "ordered") and not matches("within", 3, "ordered")
    assert not matches("to", TODAY.isoformat(), "last_order")


def test_keyword_phone_and_bought(shop, tenant):
    first = shop["customers"][0]

    def codes(key, op, value):
        rule = {"conditions": [{"field": key, "op": op, "value": value}]}
        return set(rule_customers(tenant, rule).values_list("code", flat=True))

    assert codes("keyword", "contains", first.code) == {first.code}
    assert codes("keyword", "contains", "khach 0 nguyen") == {first.code}
    last4 = first.phone_normalized[-4:]
    assert first.code in codes("phone", "contains", last4)
    day = (TODAY - datetime.timedelta(days=2)).isoformat()
    assert codes("bought", "on", day) == {first.code}
    assert codes("bought", "between", [(TODAY - datetime.timedelta(days=50)).isoformat(),
                                       TODAY.isoformat()]) == \
        {first.code, shop["customers"][1].code}


def test_a_rule_on_the_figures_alone_reads_the_stats_table_alone(shop, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def target_sql(conditions):
        with CaptureQueriesContext(connection) as queries:
            ids = {row["id"] for row in rule_target(tenant, {"conditions": conditions})}
        return ids, queries.captured_queries[-1]["sql"]

    ids, sql = target_sql([{"field": "orders", "op": "gte", "value": 1},
                           {"field": "days_since_purchase", "op": "gte", "value": 10}])
    assert "customers_customer" not in sql and "orders_customerstats" in sql
    assert ids == {shop["customers"][1].pk, shop["customers"][3].pk}
    # "at most 1 order" holds for customers without a stats row: read from the customers.
    ids, sql = target_sql([{"field": "orders", "op": "lte", "value": 1}])
    assert "customers_customer" in sql and shop["customers"][2].pk in ids
    ids, sql = target_sql([{"field": "orders", "op": "gte", "value": 1},
                           {"field": "gender", "op": "in", "value": ["male"]}])
    assert "customers_customer" in sql and ids == {shop["customers"][1].pk}


def test_any_block_ors_and_top_level_ands(shop, tenant):
    c = shop["customers"]
    rule = {"conditions": [
        {"field": "gender", "op": "in", "value": ["female", "male"]},
        {"any": [{"field": "membership", "op": "in", "value": ["pending"]},
                 {"field": "province", "op": "in", "value": [79]}]}]}
    assert set(rule_customers(tenant, rule)) == {c[0], c[1], c[3]}
    assert list(rule_customers(tenant, {"conditions": []})) == []


@pytest.mark.parametrize(("rule", "message"), [
    ({"conditions": [{"field": "nope", "op": "eq", "value": 1}]}, "nope"),
    ({"conditions": [{"field": "spend", "op": "contains", "value": 1}]}, "Tổng chi tiêu"),
    ({"conditions": [{"field": "spend", "op": "gte", "value": "-5"}]}, "âm"),
    ({"conditions": [{"field": "spend", "op": "gte", "value": "1.5"}]}, "không phải"),
    ({"conditions": [{"field": "birth_month", "op": "in", "value": [13]}]}, "1 đến 12"),
    ({"conditions": [{"field": "created", "op": "from", "value": "31/02/2026"}]}, "ngày"),
    ({"conditions": [{"field": "orders", "op": "between", "value": [5, 1]}]}, "lớn hơn"),
    ({"conditions": [{"any": [{"any": []}]}]}, "lồng"),
    ({"conditions": "x"}, "đọc"),
])
def test_refusals_are_clear_in_vietnamese(tenant, rule, message):
    from django.utils import translation

    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        rule_validate(tenant, rule)
    assert message in " ".join(refused.value.messages), refused.value.messages


def test_another_shops_ids_are_refused_without_saying_whose(tenant, other_tenant):
    foreign_tag = TagFactory(tenant=other_tenant)
    foreign_status = CareStatusFactory(tenant=other_tenant)
    for key, value in (("tags", [foreign_tag.pk]), ("care_status", [foreign_status.pk]),
                       ("care_status", [999_999])):
        with pytest.raises(ValidationError) as refused:
            rule_validate(tenant, {"conditions": [{"field": key, "op": "in" if key !=
                                                   "tags" else "any", "value": value}]})
        assert str(other_tenant) not in str(refused.value)


def random_condition(rng, shop):
    while True:
        entry = rng.choice([f for f in rule_fields() if f.key not in {"keyword", "group"}])
        op = rng.choice(entry.operator_keys)
        values = sample_values(entry, op, shop) if entry.key not in ("phone", "bought") \
            else ([None] if OPERATORS[op].arity == 0 else [])
        if values:
            return {"field": entry.key, "op": op, "value": rng.choice(values)}


def test_explain_agrees_with_membership_for_random_rules(shop, tenant):
    rng = random.Random(11)
    customers = shop["customers"]
    for _round in range(40):
        conditions = [random_condition(rng, shop) for _i in range(rng.randint(1, 3))]
        if rng.random() < 0.5:
            conditions.append({"any": [random_condition(rng, shop)
                                       for _i in range(rng.randint(2, 3))]})
        rule = {"conditions": conditions}
        members = set(rule_customers(tenant, rule))
        for customer in rng.sample(customers, 3):
            explained = rule_explain(tenant, rule, customer)
            assert all(e.holds for e in explained) == (customer in members), rule
            assert all(e.actual for e in explained if not e.children)
