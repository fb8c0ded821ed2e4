"""Every write to loyalty: the program and its tiers (``program``), and the point ledger
(``ledger``: the one function that moves an account, "Cập nhật điểm", order events,
expiry, merges, verification). Import from ``loyalty.services``."""

from .ledger import (
    MAX_MANUAL,
    Posted,
    account_for_update,
    expiry_due,
    points_adjust,
    points_expire,
    points_follow_order,
    points_move_on_merge,
    points_set_balances,
    points_text,
    points_value,
)
from .program import (
    DEFAULT_TIERS,
    PROGRAM_FIELDS,
    loyalty_enabled,
    program_of,
    program_save,
    spend_12_months,
    tier_delete,
    tier_for,
    tier_save,
    tiers_of,
    tiers_refresh,
)
from .verify import ledger_verify

__all__ = [
    "DEFAULT_TIERS", "MAX_MANUAL", "PROGRAM_FIELDS", "Posted", "account_for_update",
    "expiry_due", "ledger_verify", "loyalty_enabled", "points_adjust", "points_expire",
    "points_follow_order", "points_move_on_merge", "points_set_balances", "points_text",
    "points_value",
    "program_of", "program_save", "spend_12_months", "tier_delete", "tier_for", "tier_save",
    "tiers_of", "tiers_refresh",
]
