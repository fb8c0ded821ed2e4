"""Every action name the code writes to the change log has words (crm.audit.action_text), so
no page shows an internal key such as "customer.lifecycle" to a person."""

import ast
from pathlib import Path

import pytest
from django.utils import translation

from crm import audit
from crm.audit import audit_record
from crm.models import AuditLog
from customers.activity import describe
from customers.services import LOOKUP_MODELS

ROOT = Path(__file__).resolve().parents[2]
APPS = ["crm", "customers", "orders", "groups", "loyalty"]
# f"{name}.create" in customers/services/lists.py: name is a lookup model's model_name.
LOOKUP_NAMES = sorted(model._meta.model_name for model in LOOKUP_MODELS.values())


def _strings(node) -> set[str]:
    """The string constants an expression can take ("a" if x else "b" gives both)."""
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def _expand_fstring(node: ast.JoinedStr) -> set[str]:
    """f"{name}.{'create' if creating else 'update'}" -> source.create, tag.update, ..."""
    variants = [""]
    for part in node.values:
        if isinstance(part, ast.Constant):
            options = {part.value}
        else:
            options = _strings(part.value) or set(LOOKUP_NAMES)
        variants = [v + o for v in variants for o in sorted(options)]
    return set(variants)


def _keyword_values(tree, name: str) -> set[str]:
    """Every string passed as ``name=...`` anywhere in the module (the bulk helpers take
    the action as a keyword and hand it to audit_record)."""
    found = set()
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        for kw in call.keywords:
            if kw.arg == name:
                found |= _strings(kw.value)
    return found


def actions_in_code() -> set[str]:
    actions = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
                func = call.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name != "audit_record":
                    continue
                arg = call.args[2] if len(call.args) > 2 else next(
                    (k.value for k in call.keywords if k.arg == "action"), None)
                assert arg is not None, f"{path}: audit_record without an action"
                if isinstance(arg, ast.JoinedStr):
                    actions |= _expand_fstring(arg)
                elif isinstance(arg, ast.Name):
                    actions |= _keyword_values(tree, arg.id)
                else:
                    actions |= _strings(arg)
    return actions


def test_the_walk_finds_the_actions_it_should():
    found = actions_in_code()
    # A few known ones, of each kind of call: literal, ternary, f-string, keyword.
    assert {"customer.create", "customer.lifecycle", "staff.deactivate", "staff.reactivate",
            "source.move", "tag.create", "customer.care_status", "order.refund"} <= found
    assert all("." in a and " " not in a for a in found), found


def test_every_action_in_the_code_has_words():
    missing = sorted(a for a in actions_in_code() if a not in audit.action_texts)
    assert not missing, f"actions without a sentence in crm.audit.action_texts: {missing}"


@pytest.mark.parametrize("action", sorted(actions_in_code()))
def test_the_words_are_vietnamese(action):
    with translation.override("vi"):
        text = str(audit.action_text(action).text)
    assert text and action not in text
    with translation.override("en"):
        english = str(audit.action_text(action).text)
    assert text != english, f"{action}: “{english}” has no Vietnamese yet"


@pytest.mark.django_db
def test_lifecycle_row_reads_as_a_sentence(tenant):
    from customers.models import Customer

    customer = Customer.objects.create(tenant=tenant, number=1, code="KH000001",
                                       full_name="Dương Thu Thảo")
    audit_record(tenant, None, "customer.lifecycle", customer,
                 before={"lifecycle_stage": "new"}, after={"lifecycle_stage": "purchased"})
    with translation.override("vi"):
        text = describe(AuditLog.objects.get()).text
    assert text == "Hệ thống chuyển giai đoạn: Mới → Đã mua hàng"


@pytest.mark.django_db
def test_an_unknown_action_never_shows_its_key(tenant):
    from customers.models import Customer

    customer = Customer.objects.create(tenant=tenant, number=1, code="KH000001",
                                       full_name="Lan")
    audit_record(tenant, None, "customer.something_old", customer)
    with translation.override("en"):
        assert "customer.something_old" not in describe(AuditLog.objects.get()).text
