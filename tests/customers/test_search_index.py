"""The name index's pending list under an import: raised for the import's transaction,
merged by a task once it commits."""

import pytest
from django.db import connection, transaction

from customers import search_index, tasks
from customers.models import Customer
from customers.signals import customers_bulk_changed
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="a PostgreSQL GIN index (CI runs on PostgreSQL)")


def _limit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW gin_pending_list_limit")
        return cursor.fetchone()[0]


@on_postgresql
@pytest.mark.django_db(transaction=True)  # a real transaction, not the test's savepoint
def test_the_limit_is_raised_for_the_transaction_only():
    before = _limit()
    with transaction.atomic():
        search_index.defer_name_index(100_000)
        assert _limit() == "50000kB"
    assert _limit() == before


@on_postgresql
def test_the_merge_empties_the_pending_list_and_rows_stay_found(tenant):
    with transaction.atomic():
        search_index.defer_name_index(1_000)
        CustomerFactory.create_batch(3, tenant=tenant, full_name="Phạm Thị Hồng")
        # Found while their entries wait in the list.
        assert Customer.objects.for_tenant(tenant).filter(search_name__contains="hong").count() == 3
    assert tasks.name_index_merge() >= 0
    assert tasks.name_index_merge() == 0  # nothing left to merge
    assert Customer.objects.for_tenant(tenant).filter(search_name__contains="hong").count() == 3


def test_a_bulk_change_queues_the_merge_after_commit(tenant, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks.name_index_merge, "delay", lambda: queued.append(True))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        customers_bulk_changed.send(sender=Customer, tenant=tenant, reason="import")
        assert not queued  # not before the commit
    assert queued and callbacks

