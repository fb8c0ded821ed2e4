"""The customer field registry: one definition each field's readers (columns, sorts, the
filter panel, the rule builder, saved filters) all read."""

import json

import pytest
from django.db.models import Q
from django.http import QueryDict

from crm.tables import Column
from customers import fields as registry
from customers.columns import CUSTOMER_COLUMNS, all_columns, list_sorts
from customers.fields import OPERATORS, TYPE_OPERATORS, CustomerField, FieldType
from customers.filters import customer_filterset, panel_filters, query_to_rule
from customers.models import Customer
from customers.rules import rule_customers
from tests.customers.factories import CareStatusFactory, CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

TYPES = {v for k, v in vars(FieldType).items() if k.isupper()}


def test_every_field_is_well_formed():
    keys = [f.key for f in registry.customer_fields()]
    assert len(keys) == len(set(keys))
    for entry in registry.customer_fields():
        assert entry.type in TYPES, entry.key
        assert entry.section in registry.SECTIONS, entry.key
        assert set(entry.operator_keys) <= set(OPERATORS), entry.key
        assert entry.path or entry.condition or not entry.rule, entry.key
        if entry.type in (FieldType.CHOICE, FieldType.MONTH):
            assert entry.choices is not None, entry.key
        if entry.type == FieldType.RECENT and entry.panel:
            assert entry.windows, entry.key
    assert set(TYPE_OPERATORS) == TYPES


def test_the_issues_fields_are_registered_by_their_apps():
    keys = {f.key for f in registry.rule_fields()}
    assert {"name", "phone", "email", "code", "gender", "age", "birth_month", "province",
            "source", "tags", "care_status", "lifecycle", "membership", "staff",
            "collaborator", "created", "referrer"} <= keys  # customers
    assert {"orders", "spend", "spend_3_months", "average_order", "debt", "first_order",
            "last_order", "days_since_purchase", "ordered"} <= keys  # orders
    assert "group" in keys  # groups


def test_columns_and_sorts_come_from_the_registry():
    columns = all_columns()
    assert [c.key for c in columns] == [f.column.key for f in registry.customer_fields()
                                         if f.column is not None]
    assert {c.key for c in CUSTOMER_COLUMNS.available()} >= {"name", "spend", "tags", "debt"}
    sorts = list_sorts()
    for column in columns:
        if column.sort:
            assert column.sort in sorts and f"-{column.sort}" in sorts, column.key


def test_every_panel_box_is_in_the_filter_form(tenant):
    form = customer_filterset()(QueryDict(), queryset=Customer.objects.none(),
                                tenant=tenant).form
    for entry in registry.panel_fields():
        assert set(panel_filters(entry)) <= set(form.fields), entry.key


def test_catalog_is_json_and_holds_only_this_shops_rows(tenant, other_tenant):
    mine = CareStatusFactory(tenant=tenant, name="Của shop A")
    CareStatusFactory(tenant=other_tenant, name="Của shop B")
    catalog = registry.field_catalog(tenant)
    json.dumps(catalog)
    care = next(f for f in catalog if f["key"] == "care_status")
    assert {c["label"] for c in care["choices"]} == {"Của shop A"}
    assert care["choices"][0]["value"] == mine.pk
    sections = [f["section"] for f in catalog]
    assert sections == sorted(sections, key=list(registry.SECTIONS).index)


def test_a_list_state_and_its_rule_find_the_same_customers(tenant, lists):
    tag = TagFactory(tenant=tenant)
    status = lists["care_statuses"][0]
    wanted = CustomerFactory(tenant=tenant, full_name="Nguyễn Văn Đức", care_status=status,
                             gender="male")
    wanted.tags.add(tag, through_defaults={"tenant": tenant})
    CustomerFactory(tenant=tenant, full_name="Nguyễn Văn Đức", gender="male")
    CustomerFactory(tenant=tenant, full_name="Trần Thị B", care_status=status)
    query = (f"q=nguyen+duc&care_status={status.pk}&gender=male&tags={tag.pk}&tags_mode=all"
             "&spend_max=0&sort=-created&size=25")
    listed = customer_filterset()(QueryDict(query), tenant=tenant,
                                  queryset=Customer.objects.for_tenant(tenant)).qs
    from customers.selectors import customer_search

    listed = customer_search(listed, tenant, "nguyen duc")
    rule = query_to_rule(tenant, query)
    assert rule["conditions"][0] == {"field": "keyword", "op": "contains",
                                     "value": "nguyen duc"}
    assert {"field": "tags", "op": "all", "value": [tag.pk]} in rule["conditions"]
    assert list(rule_customers(tenant, rule)) == list(listed) == [wanted]


def test_a_field_an_app_registers_shows_everywhere(tenant):
    entry = CustomerField(
        "vip_note", "Ghi chú VIP", FieldType.TEXT, path="note", blank_is_empty=True,
        column=Column("vip_note", "Ghi chú VIP", cell="customers/cells.html#company"),
        panel="more", order=999)
    registry.register_field(entry)
    try:
        assert "vip_note" in {c.key for c in all_columns()}
        assert "vip_note" in customer_filterset().base_filters
        assert "vip_note" in {f["key"] for f in registry.field_catalog(tenant)}
        CustomerFactory(tenant=tenant, note="khách VIP lâu năm")
        CustomerFactory(tenant=tenant, note="")
        rule = {"conditions": [{"field": "vip_note", "op": "contains", "value": "vip"}]}
        assert rule_customers(tenant, rule).count() == 1
        assert registry.get_field("vip_note").q(tenant, "empty", None) == \
            Q(note="") | Q(note__isnull=True)
    finally:
        registry._fields.pop("vip_note")
