"""manage.py create_shop: a new shop, its owner, and a one-time set-password link."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from crm.models import AuditLog, Membership, Role, Tenant
from tests.crm.factories import PASSWORD, MembershipFactory, UserFactory
from tests.crm.signin import sign_in

pytestmark = pytest.mark.django_db


def create_shop(*args) -> str:
    out = io.StringIO()
    call_command("create_shop", *args, stdout=out)
    return out.getvalue()


ARGS = ["--name", "Cửa hàng Gốm Bát Tràng", "--slug", "gom-bat-trang",
        "--owner-username", "chugom", "--owner-email", "chu@gom.vn"]


def test_creates_shop_owner_and_default_lists(client):
    from customers.models import CareStatus

    output = create_shop(*ARGS, "--base-url", "https://crm.example.vn/")
    tenant = Tenant.objects.get(slug="gom-bat-trang")
    assert tenant.name == "Cửa hàng Gốm Bát Tràng"
    owner = Membership.objects.get(tenant=tenant)
    assert owner.role == Role.OWNER and owner.user.username == "chugom"
    assert owner.user.email == "chu@gom.vn"
    assert not owner.user.has_usable_password()
    # The tenant_created signal seeded the shop's default lists.
    assert CareStatus.objects.for_tenant(tenant).exists()
    assert AuditLog.objects.for_tenant(tenant).filter(action="tenant.create").exists()

    link = re.search(r"https://crm\.example\.vn(/admin/password-reset/\S+/)", output)
    assert link, output
    set_url = client.get(link.group(1)).url
    client.post(set_url, {"new_password1": "Gom-dep-2026", "new_password2": "Gom-dep-2026"})
    assert sign_in(client, "chugom", "Gom-dep-2026")
    assert tenant.name in client.get("/admin/").content.decode()
    client.logout()
    assert 'data-testid="invalid-link"' in client.get(link.group(1),
                                                      follow=True).content.decode()


def test_default_base_url():
    assert "http://127.0.0.1:8000/admin/password-reset/" in create_shop(*ARGS)


def test_existing_user_becomes_owner_with_the_right_email(other_tenant):
    user = UserFactory(username="chugom", email="Chu@Gom.vn")
    MembershipFactory(tenant=other_tenant, user=user, role=Role.STAFF)
    output = create_shop(*ARGS)
    tenant = Tenant.objects.get(slug="gom-bat-trang")
    assert Membership.objects.get(tenant=tenant, user=user).role == Role.OWNER
    assert Membership.objects.get(tenant=other_tenant, user=user).role == Role.STAFF
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # no link: they keep their password
    assert "/admin/password-reset/" not in output


def test_existing_user_with_another_email_is_refused():
    UserFactory(username="chugom", email="someone@else.vn")
    with pytest.raises(CommandError, match="another email"):
        create_shop(*ARGS)
    assert not Tenant.objects.filter(slug="gom-bat-trang").exists()


def test_taken_slug_is_refused_and_nothing_is_created(tenant):
    with pytest.raises(CommandError, match="slug"):
        create_shop("--name", "X", "--slug", tenant.slug, "--owner-username", "moi",
                    "--owner-email", "moi@x.vn")
    assert not get_user_model().objects.filter(username="moi").exists()
