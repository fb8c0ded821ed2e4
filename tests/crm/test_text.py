"""crm.text and the avatar include: one initials rule for staff and customers."""

import unicodedata

import pytest
from django.template.loader import render_to_string

from crm.text import initials


@pytest.mark.parametrize("name,letter", [
    ("Nguyễn Văn Đức", "Đ"),
    ("Trần Thị Thu Hà", "H"),
    ("  lê   ánh  ", "Á"),
    (unicodedata.normalize("NFD", "Phạm Ánh"), "Á"),  # typed decomposed: still one letter
    ("chushop", "C"),
    ("", "?"),
    (None, "?"),
])
def test_initials_is_the_given_names_first_letter(name, letter):
    assert initials(name) == letter


@pytest.mark.django_db
def test_staff_and_customer_avatars_use_the_same_include_and_rule(tenant):
    from crm.models import Membership
    from tests.crm.factories import MembershipFactory
    from tests.customers.factories import CustomerFactory

    member = MembershipFactory(tenant=tenant, user__last_name="Nguyễn Văn",
                               user__first_name="Đức")
    customer = CustomerFactory(tenant=tenant, full_name="Nguyễn Văn Đức")
    staff_html = render_to_string("includes/avatar.html", {
        "name": Membership.objects.get(pk=member.pk).display_name, "size": "sm"})
    customer_html = render_to_string("includes/avatar.html", {
        "name": customer.full_name, "size": "sm"})
    assert staff_html == customer_html
    assert ">Đ</span>" in staff_html and customer.initials == "Đ"
