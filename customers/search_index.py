"""The name search's trigram index (migration 0002) under bulk writes.

A GIN index takes new entries into a pending list and merges the list into its tree when
the list passes ``gin_pending_list_limit`` (4 MB): inserting 100,000 customers merged it
about thirty times, a second of the import's transaction. An import raises the limit for
its own transaction (``defer_name_index``), so its rows only join the list; the list is
merged once, by a task queued when the transaction commits (``customers_bulk_changed``).
Searches read the list meanwhile: a new customer is found at once.
"""

from django.db import connection, transaction

NAME_INDEX = "customer_name_trgm"
# Room in the pending list per row written (its trigrams and the shop's key take ~200
# bytes), in kB per row.
KB_PER_ROW = 0.5
DEFAULT_LIMIT_KB = 4096  # PostgreSQL's own default


def defer_name_index(rows: int) -> None:
    """Let ``rows`` new customers' entries wait in the pending list, for the current
    transaction only (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        return
    limit = max(DEFAULT_LIMIT_KB, int(rows * KB_PER_ROW))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('gin_pending_list_limit', %s, true)", [str(limit)])


def merge_name_index() -> int:
    """Merge the pending list into the index; returns the pages it took (0: nothing)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [NAME_INDEX])
        if cursor.fetchone()[0] is None:
            return 0
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [NAME_INDEX])
        return cursor.fetchone()[0]


def merge_after_bulk_change(sender, tenant, **kwargs) -> None:
    """customers_bulk_changed: merge what the change left in the list, in the background,
    once the change has committed."""
    from . import tasks

    transaction.on_commit(tasks.name_index_merge.delay)
