"""Who may do what: the one access table of the backoffice.

Every action a person (or a sales channel, or the public registration page) can take is a
row of ``POLICY``: the lowest role that may take it, and the shop setting that raises it.
The **services** ask this table (``require``) with the acting membership before they
write, so every door — the profile button, the bulk action, the forms, the API and the
importers of later apps — gets the same answer. Views ask the same table (``can``, the
``can`` template variable) only to show or hide buttons and form fields.

An actor is one of:

* a ``Membership`` — a person working in one shop, with their role;
* a ``SystemActor`` — not a person: ``SYSTEM`` (demo seeding, nightly jobs, management
  commands; may do everything), a sales channel's API key, the public registration page.

``None`` is never an actor: code that forgets to pass one is refused (fails closed).

Which customers an actor sees is decided here too (``customer_visibility``); the customers
app turns the answer into a query (``customers.selectors.scope_customers``) that every read
uses: lists, the profile, lookups, the order form's customer box, duplicates.
"""

import enum
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import ROLE_RANK, Membership, Role, Tenant


class AccessDenied(PermissionDenied):
    """Raised by ``require``; a view answers 403, the API 403, a form shows the message."""

    def __init__(self, action: str, message=None):
        self.action = action
        super().__init__(str(message or _("Your role in this shop does not allow this action.")))


@dataclass(frozen=True)
class Rule:
    minimum: str  # the lowest role that may take the action
    label: str  # what the action is, for the roles table (README, Nhân sự screen)
    # A shop setting (a boolean Tenant field) that, when on, raises the minimum to manager.
    raised_by: str = ""
    denied: str = ""  # the message a refused person reads, when the generic one is vague


MANAGER_ONLY_CARE = _("Only managers change the care status in this shop.")

POLICY: dict[str, Rule] = {
    # Every backoffice page starts here; the customers a role sees are customer_visibility's.
    "dashboard.view": Rule(Role.COLLABORATOR, _("Open the backoffice and its dashboard")),
    "customer.view": Rule(Role.COLLABORATOR, _("See customers (collaborators: only theirs)")),
    "customer.note": Rule(Role.COLLABORATOR, _("Add notes to a customer")),
    "customer.create": Rule(Role.STAFF, _("Create customers")),
    "customer.edit": Rule(Role.STAFF, _("Edit a customer's details, contacts and tags")),
    "customer.set_care_status": Rule(
        Role.STAFF, _("Change the care status"),
        raised_by="only_managers_change_care_status", denied=MANAGER_ONLY_CARE),
    "customer.tag": Rule(Role.STAFF, _("Add or remove a tag on many customers")),
    "customer.bulk_edit": Rule(Role.STAFF, _("Use bulk actions on the customer list")),
    "customer.assign": Rule(Role.MANAGER, _("Assign the staff in charge and the collaborator")),
    "customer.set_membership": Rule(Role.MANAGER, _("Change the membership (cancel, pending)")),
    "customer.approve_membership": Rule(
        Role.MANAGER, _("Approve members and registrations; create active members")),
    "customer.merge": Rule(Role.MANAGER, _("See duplicates and merge customers")),
    "order.view": Rule(Role.STAFF, _("See orders")),
    "order.create": Rule(Role.STAFF, _("Enter orders")),
    "order.set_status": Rule(Role.STAFF, _("Move an order along (confirmed, shipping, "
                                           "delivered)")),
    "order.record_payment": Rule(Role.STAFF, _("Record payments")),
    "order.link_customer": Rule(Role.STAFF, _("Link an order to a customer")),
    "order.cancel": Rule(Role.MANAGER, _("Cancel orders, or bring a cancelled one back")),
    "order.return": Rule(Role.MANAGER, _("Record returns")),
    "order.refund": Rule(Role.MANAGER, _("Record money given back to a customer (refunds)")),
    "stats.recompute": Rule(Role.MANAGER, _("Recompute the order figures")),
    "group.view": Rule(Role.STAFF, _("See customer groups and their members")),
    "group.manage": Rule(Role.MANAGER, _("Create, edit, archive and recompute groups; add "
                                         "and remove customers of a group")),
    "filter.save": Rule(Role.COLLABORATOR, _("Save the customer list's filters for oneself")),
    "filter.share": Rule(Role.MANAGER, _("Share a saved filter with the whole shop")),
    "points.view": Rule(Role.COLLABORATOR, _("See a customer's tier, points and point "
                                              "history")),
    "points.redeem": Rule(Role.STAFF, _("Use a customer's points as a discount on an order")),
    "points.adjust": Rule(Role.MANAGER, _("Add or subtract a customer's points (Cập nhật "
                                          "điểm)")),
    "loyalty.view": Rule(Role.MANAGER, _("See the loyalty page: tiers and the shop's point "
                                         "history")),
    "loyalty.manage": Rule(Role.MANAGER, _("Set up the loyalty program: earning, redeeming, "
                                           "expiry and tiers")),
    "import.run": Rule(Role.MANAGER, _("Import customers and orders from Excel or CSV files")),
    "export.run": Rule(Role.MANAGER, _("Export customers, group members, orders and point "
                                       "history to Excel or CSV")),
    "settings.view": Rule(Role.MANAGER, _("Open the settings")),
    "settings.lists": Rule(Role.MANAGER, _("Edit sources, tags and care statuses")),
    "staff.view": Rule(Role.MANAGER, _("See the staff list")),
    "settings.edit": Rule(Role.OWNER, _("Change the shop settings")),
    "api_keys.manage": Rule(Role.OWNER, _("Create and revoke API keys")),
    "staff.manage": Rule(Role.OWNER, _("Add staff, change roles, deactivate, reset passwords")),
    # Not a person's action: only the public registration page's actor holds it.
    "customer.register": Rule("", _("Register on the shop's public page (no sign-in)")),
}


class Visibility(enum.Enum):
    ALL = "all"
    ASSIGNED = "assigned"  # staff with "staff see only their own customers"
    COLLABORATED = "collaborated"  # a collaborator: the customers they care for
    NONE = "none"


@dataclass(frozen=True)
class SystemActor:
    """An actor that is not a person. ``actions`` None means every action."""

    name: str
    actions: frozenset[str] | None = None
    tenant_id: int | None = None  # a channel's key acts in its own shop only
    api_key: object = field(default=None, compare=False)

    @property
    def user(self):
        return None


SYSTEM = SystemActor("system")
REGISTRATION = SystemActor("registration", frozenset({"customer.register"}))
API_ACTIONS = frozenset({"customer.view", "customer.create", "order.view", "order.create",
                         "order.set_status", "order.cancel", "order.record_payment",
                         "order.link_customer", "points.redeem"})


def api_actor(key) -> SystemActor:
    """What a sales channel's API key may do: send orders of its own shop."""
    return SystemActor(f"api:{key.prefix}", API_ACTIONS, tenant_id=key.tenant_id, api_key=key)


def _minimum(rule: Rule, raised: bool) -> str:
    """The lowest role for ``rule``; manager at least when its shop setting is on."""
    if raised and rule.raised_by:
        return max(rule.minimum, Role.MANAGER, key=ROLE_RANK.__getitem__)
    return rule.minimum


def _setting_on(rule: Rule, tenant) -> bool:
    return bool(rule.raised_by and tenant is not None and getattr(tenant, rule.raised_by))


def can(actor, action: str, tenant=None) -> bool:
    """May ``actor`` take ``action`` (in ``tenant``, when given)?"""
    rule = POLICY[action]  # an unknown action is a programming error: KeyError
    if isinstance(actor, SystemActor):
        if tenant is not None and actor.tenant_id not in (None, tenant.pk):
            return False
        return actor.actions is None or action in actor.actions
    if not isinstance(actor, Membership) or not actor.is_active or not rule.minimum:
        return False
    if tenant is not None and actor.tenant_id != tenant.pk:
        return False
    return ROLE_RANK[actor.role] >= ROLE_RANK[_minimum(rule, _setting_on(rule, actor.tenant))]


def require(actor, action: str, tenant=None) -> None:
    """Raise AccessDenied unless ``actor`` may take ``action``: the check every service
    makes before it writes."""
    if not can(actor, action, tenant):
        raise AccessDenied(action, POLICY[action].denied or None)


def customer_visibility(actor) -> Visibility:
    """Which customers ``actor`` sees: the one rule every read applies."""
    if isinstance(actor, SystemActor):
        return Visibility.ALL if can(actor, "customer.view") else Visibility.NONE
    if not isinstance(actor, Membership) or not can(actor, "customer.view"):
        return Visibility.NONE
    if actor.role == Role.COLLABORATOR:
        return Visibility.COLLABORATED
    if actor.role == Role.STAFF and actor.tenant.staff_see_own_customers_only:
        return Visibility.ASSIGNED
    return Visibility.ALL


def user_of(actor):
    """The user to record as the author of a change (None for a system actor)."""
    return actor.user if isinstance(actor, Membership) else None


class _Verbs:
    def __init__(self, actor, app: str):
        self.actor, self.app = actor, app

    def __getitem__(self, verb: str) -> bool:
        action = f"{self.app}.{verb}"
        return action in POLICY and can(self.actor, action)


class Permissions:
    """``{% if can.customer.assign %}`` in templates: the table, read by the page."""

    def __init__(self, actor):
        self.actor = actor

    def __getitem__(self, app: str) -> _Verbs:
        return _Verbs(self.actor, app)


ROLE_COLUMNS = [Role.OWNER, Role.MANAGER, Role.STAFF, Role.COLLABORATOR]


def roles_table(tenant=None) -> list[dict]:
    """The table for people to read (the Nhân sự screen, the README): one row per action a
    person may take, with ``cells`` (may each role of ROLE_COLUMNS take it in ``tenant``;
    without a tenant, with the shop settings off), ``strict`` (the same with the setting
    on) and the name of the setting that changes it."""
    rows = []
    for action, rule in POLICY.items():
        if not rule.minimum:
            continue
        on = _setting_on(rule, tenant)
        rows.append({
            "action": action, "label": rule.label,
            "cells": [ROLE_RANK[r] >= ROLE_RANK[_minimum(rule, on)] for r in ROLE_COLUMNS],
            "strict": [ROLE_RANK[r] >= ROLE_RANK[_minimum(rule, True)] for r in ROLE_COLUMNS],
            "setting": Tenant._meta.get_field(rule.raised_by).verbose_name
            if rule.raised_by else "",
        })
    return rows


def roles_markdown() -> str:
    """The README's "Roles" table, generated from POLICY (a test keeps them equal)."""
    with translation.override("en"):
        return _roles_markdown()


def _roles_markdown() -> str:
    lines = ["| action | what | owner | manager | staff | collaborator |",
             "|---|---|---|---|---|---|"]
    for row in roles_table():
        cells = [("✓" if strict else f"✓ unless “{row['setting']}”") if allowed else "✗"
                 for allowed, strict in zip(row["cells"], row["strict"], strict=True)]
        lines.append(f"| `{row['action']}` | {row['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
