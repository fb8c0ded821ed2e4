"""The customer list's columns: the registered customer fields that have a cell
(customers.fields), in the fields' order. A user shows, hides and reorders them; the
fields marked ``default_column`` are shown until they do.
"""

from crm.tables import Column, ColumnChoice

from .field_defs import TAGS
from .fields import customer_fields

PREFERENCE_KEY = "customers.list.columns"


def all_columns() -> list[Column]:
    return [f.column for f in customer_fields() if f.column is not None]


def columns_by_key() -> dict[str, Column]:
    return {c.key: c for c in all_columns()}


def default_columns() -> list[str]:
    return [f.column.key for f in customer_fields() if f.column is not None and f.default_column]


def list_sorts() -> dict:
    """Sort key -> (keyset order, annotations[, parts]) of every field that sorts."""
    sorts = {}
    for entry in customer_fields():
        sorts.update(entry.sorts)
    return sorts


def list_related() -> list[str]:
    """What every column of a row reads (the profile and the merge page show them all)."""
    return list(dict.fromkeys(path for f in customer_fields() for path in f.related))


# The customer list's column chooser (crm.generic.TenantListView.column_choice).
CUSTOMER_COLUMNS = ColumnChoice(PREFERENCE_KEY, all_columns, default_columns)

__all__ = ["CUSTOMER_COLUMNS", "TAGS", "all_columns", "columns_by_key", "default_columns",
           "list_related", "list_sorts"]
