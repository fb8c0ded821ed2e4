"""A list page joins and prefetches only what its shown columns read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import selectors
from customers.columns import CUSTOMER_COLUMNS
from customers.models import Customer, CustomerTag
from tests.customers.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def _page_sql(tenant, keys):
    columns = [CUSTOMER_COLUMNS.by_key()[k] for k in keys]
    with CaptureQueriesContext(connection) as queries:
        result = selectors.customer_list(queryset=Customer.objects.for_tenant(tenant),
                                         sort="", after=None, before=None, columns=columns)
    return result, [q["sql"] for q in queries.captured_queries]


def test_only_the_shown_columns_are_joined(tenant):
    customer = CustomerFactory(tenant=tenant)
    tag = TagFactory(tenant=tenant)
    CustomerTag.objects.create(tenant=tenant, customer=customer, tag=tag)
    _result, sql = _page_sql(tenant, ["name", "phone"])
    rows_sql = " ".join(sql)
    assert "customers_carestatus" not in rows_sql and "customers_source" not in rows_sql
    assert "customers_customertag" not in rows_sql  # no tag prefetch without the column
    result, sql = _page_sql(tenant, ["name", "care_status", "tags", "spend"])
    rows_sql = " ".join(sql)
    assert "customers_carestatus" in rows_sql and "orders_customerstats" in rows_sql
    assert [t.pk for t in result.page.rows[0].tags.all()] == [tag.pk]


def test_every_column_is_joined_when_none_are_named(tenant):
    CustomerFactory(tenant=tenant)
    with CaptureQueriesContext(connection) as queries:
        row = selectors.customer_list_queryset(Customer.objects.for_tenant(tenant)).get()
        row.source, row.care_status, row.assigned_staff, row.collaborator  # noqa: B018
        list(row.tags.all())
    assert len(queries.captured_queries) == 2  # the row with its joins, and its tags
