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

__all__ = [
    "Diff", "apply_diff", "group_recompute", "group_recompute_request", "groups_recompute_all",
    "target_sql",
]
