"""`seed_demo` fills every screen: "Chờ duyệt" (pending members and open registration
requests), "Khách trùng" (duplicate pairs), and the money owed back on a cancelled order."""

import pytest
from django.core.management import call_command

from crm.models import Membership, Tenant
from customers.models import Customer, MembershipState, RegistrationRequest
from customers.selectors import duplicate_pairs
from orders.models import Order, Payment
from orders.selectors import customer_order_summary


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--customers", "12")
    return Tenant.objects.get(slug="demo")


def test_pending_members_and_open_registrations(demo):
    customers = Customer.objects.for_tenant(demo)
    assert customers.filter(membership_state=MembershipState.PENDING).count() >= 3
    assert RegistrationRequest.objects.for_tenant(demo).filter(
        state=RegistrationRequest.State.OPEN).count() == 2


def test_duplicate_pairs(demo):
    pairs = duplicate_pairs(Customer.objects.for_tenant(demo))
    names = {(p["a"].full_name, p["b"].full_name) for p in pairs}
    assert len(pairs) >= 3
    assert ("Dương Thu Thảo", "Duong thu thao") in names


def test_money_owed_back_and_a_refund(demo):
    owed = [o for o in Order.objects.for_tenant(demo).filter(status="cancelled")
            if o.refund_due > 0]
    assert owed
    assert customer_order_summary(owed[0].customer, breakdown=True).refund_due > 0
    assert Payment.objects.for_tenant(demo).filter(amount__lt=0).exists()


def test_the_screens_show_them(demo, client):
    manager = Membership.objects.get(tenant=demo, user__username="quanly")
    client.force_login(manager.user)
    pending = client.get("/admin/customers/pending/").content.decode()
    assert "Võ Ngọc Hân" in pending
    duplicates = client.get("/admin/customers/duplicates/").content.decode()
    assert "Duong thu thao" in duplicates and "Dương Thu Thảo" in duplicates


def test_demo_groups_are_filled_by_their_rules(db, django_capture_on_commit_callbacks):
    from customers.rules import rule_customers
    from groups.models import CustomerGroup, GroupKind, GroupMember

    with django_capture_on_commit_callbacks(execute=True):  # the recompute is queued on commit
        call_command("seed_demo", "--customers", "12")
    demo = Tenant.objects.get(slug="demo")

    groups = CustomerGroup.objects.for_tenant(demo)
    assert groups.filter(kind=GroupKind.FIXED, member_count=3).exists()
    for group in groups.filter(kind=GroupKind.RULE):
        members = set(GroupMember.objects.for_tenant(demo).filter(group=group)
                      .values_list("customer_id", flat=True))
        assert members == set(rule_customers(demo, group.rule).values_list("pk", flat=True))
        assert group.member_count == len(members) and group.recomputed_at is not None
