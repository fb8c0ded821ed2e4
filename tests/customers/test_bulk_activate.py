"""The customer list's bulk "Kích hoạt thành viên" (customers.services.customers_activate_
membership), offered with the saved filter "Chưa đăng ký thành viên"."""

import pytest
from django.contrib.messages import get_messages

from crm.access import AccessDenied
from crm.models import AuditLog
from customers import services
from customers.models import Customer, MembershipState
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BULK = "/admin/customers/bulk/"


def people(tenant, **extra):
    return {state: CustomerFactory(tenant=tenant, membership_state=state, **extra)
            for state in MembershipState.values}


def states(customers) -> dict:
    return {key: Customer.objects.get(pk=c.pk).membership_state
            for key, c in customers.items()}


def test_guests_and_pending_become_members_the_others_are_counted(tenant, manager):
    customers = people(tenant)
    done = services.customers_activate_membership(
        tenant=tenant, actor=manager, customer_ids=[c.pk for c in customers.values()])
    assert (done.activated, done.already_active, done.cancelled) == (2, 1, 1)
    assert states(customers) == {"guest": "active", "pending": "active", "active": "active",
                                 "cancelled": "cancelled"}
    # One membership change each, audited as on the profile.
    assert AuditLog.objects.filter(action="customer.membership").count() == 2


def test_staff_may_not_activate(tenant, staff):
    customers = people(tenant, assigned_staff=staff)
    with pytest.raises(AccessDenied):
        services.customers_activate_membership(
            tenant=tenant, actor=staff, customer_ids=[c.pk for c in customers.values()])
    assert states(customers)["guest"] == "guest"


def test_another_shops_customers_are_left_out(tenant, manager, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant)
    done = services.customers_activate_membership(tenant=tenant, actor=manager,
                                                  customer_ids=[theirs.pk])
    assert done.seen == 0
    theirs.refresh_from_db()
    assert theirs.membership_state == MembershipState.GUEST


def test_list_action_says_what_was_done_and_skipped(tenant, manager, login):
    customers = people(tenant)
    client = login(manager)
    response = client.post(BULK, {"action": "activate_membership",
                                  "codes": [c.code for c in customers.values()],
                                  "next": "/admin/customers/?membership_state=guest"})
    assert response["Location"] == "/admin/customers/?membership_state=guest"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    # "Đã kích hoạt 2 / 4 khách hàng. Bỏ qua: 1 đã là thành viên; 1 đã hủy (...)."
    assert "2" in message and "4" in message
    assert message.count(";") == 1
    assert states(customers)["pending"] == "active"


def test_the_action_is_offered_to_those_allowed_only(tenant, manager, staff, login):
    assert 'value="activate_membership"' in login(manager).get("/admin/customers/").content.decode()
    assert 'value="activate_membership"' not in login(staff).get(
        "/admin/customers/").content.decode()
    guest = CustomerFactory(tenant=tenant, assigned_staff=staff)
    response = login(staff).post(BULK, {"action": "activate_membership", "codes": [guest.code]})
    assert response.status_code == 302  # refused by the form: not one of their choices
    guest.refresh_from_db()
    assert guest.membership_state == MembershipState.GUEST
