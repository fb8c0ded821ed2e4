"""Every write to customers and their lists: one function per use case, in a transaction.

A package by use case; import from ``customers.services`` (these names), not its modules.
"""

from .bulk import (
    Activation,
    customer_set_care_status,
    customers_activate_membership,
    customers_add_tag,
    customers_assign_staff,
    customers_remove_tag,
    customers_set_care_status,
)
from .lifecycle import (
    customer_lifecycle_follow,
    customers_set_lifecycle,
    lifecycle_stage_for,
)
from .lists import (
    LOOKUP_MODELS,
    lookup_move,
    lookup_save,
    lookup_usage,
)
from .membership import (
    MEMBERSHIP_TRANSITIONS,
    REQUEST_FIELDS,
    can_transition,
    member_from_contact,
    membership_action,
    membership_transition,
    memberships_transition,
    registration_request_decide,
    registration_submit,
)
from .merge import (
    LIFECYCLE_RANK,
    MEMBERSHIP_RANK,
    MERGE_FIELDS,
    MERGE_GROUPS,
    customers_merge,
    merge_choice_keys,
    merge_choices,
    merge_defaults,
    merge_rows,
)
from .records import (
    CUSTOMER_CODE_PREFIX,
    CUSTOMER_FIELDS,
    ContactConflictError,
    Contacts,
    check_tags,
    customer_assign,
    customer_code,
    customer_create,
    customer_update,
    normalize_contacts,
    note_add,
    require_customer,
    snapshot,
)

__all__ = [
    "CUSTOMER_CODE_PREFIX", "CUSTOMER_FIELDS", "LIFECYCLE_RANK", "LOOKUP_MODELS",
    "MEMBERSHIP_RANK", "MEMBERSHIP_TRANSITIONS", "MERGE_FIELDS", "MERGE_GROUPS", "REQUEST_FIELDS",
    "Activation", "ContactConflictError", "Contacts", "can_transition", "check_tags",
    "customer_assign", "customer_lifecycle_follow", "customers_activate_membership",
    "customers_set_lifecycle", "lifecycle_stage_for",
    "customer_code", "customer_create", "customer_set_care_status", "customer_update",
    "customers_add_tag", "customers_assign_staff", "customers_merge", "customers_remove_tag",
    "customers_set_care_status", "lookup_move", "lookup_save",
    "lookup_usage", "member_from_contact", "membership_action", "membership_transition",
    "memberships_transition", "merge_choice_keys", "merge_choices", "merge_defaults",
    "merge_rows", "normalize_contacts", "note_add",
    "registration_request_decide", "registration_submit", "require_customer", "snapshot",
]
