import datetime

import pytest

from crm.audit import audit_record, diff_fields
from tests.crm.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_audit_record_stores_before_after(manager):
    row = audit_record(manager.tenant, manager.user, "tenant.settings", manager.tenant,
                       before={"d": datetime.date(2026, 1, 2)}, after={"d": None})
    row.refresh_from_db()
    assert row.object_type == "crm.tenant"
    assert row.object_id == manager.tenant.pk
    assert row.before == {"d": "2026-01-02"}
    assert row.actor == manager.user


def test_audit_refuses_object_of_other_tenant(manager):
    other = TenantFactory()
    membership_of_other = other.memberships.create(user=manager.user, role="staff")
    with pytest.raises(ValueError):
        audit_record(manager.tenant, None, "x", membership_of_other)


def test_diff_fields_keeps_changes_only():
    assert diff_fields({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})
