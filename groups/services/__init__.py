"""Every write to groups: one function per use case, in a transaction.

A package by use case; import from ``groups.services`` (these names), not its modules.
"""

from .recompute import (
    Diff,
    apply_diff,
    group_recompute,
    group_recompute_request,
    groups_recompute_all,
    target_sql,
)
from .records import (
    group_archive,
    group_create,
    group_pins_add,
    group_pins_remove,
    group_restore,
    group_update,
    groups_add_tag,
)
from .saved import group_from_filter, saved_filter_create, saved_filter_delete, saved_filter_update  # noqa: E501, F401

__all__ = [
    "Diff", "apply_diff", "group_archive", "group_create", "group_pins_add",
    "group_pins_remove", "group_recompute", "group_recompute_request", "group_restore",
    "group_update", "groups_add_tag", "groups_recompute_all", "target_sql",
]
