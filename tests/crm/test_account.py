"""My account (own name and password) and the forgotten-password flow from the login page."""

import re

import pytest
from django.core.cache import cache

from crm.models import AuditLog, Role
from tests.crm.factories import PASSWORD, MembershipFactory, UserFactory
from tests.crm.signin import sign_in

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/admin/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.mark.parametrize("role", ["owner", "manager", "staff", "collaborator"])
def test_every_role_opens_my_account(request, login, role):
    member = request.getfixturevalue(role)
    body = login(member).get("/admin/account/").content.decode()
    assert member.user.username in body
    assert 'href="/admin/account/"' in body  # the user menu links to it


def test_change_own_name_with_audit(login, staff):
    response = login(staff).post("/admin/account/", {"last_name": "Đặng Văn",
                                                     "first_name": "Hải"})
    assert response.status_code == 302
    staff.user.refresh_from_db()
    assert staff.display_name == "Đặng Văn Hải"
    row = AuditLog.objects.for_tenant(staff.tenant).get(action="account.name")
    assert row.actor == staff.user and row.after == {"last_name": "Đặng Văn",
                                                     "first_name": "Hải"}


def test_name_cannot_be_empty(login, staff):
    response = login(staff).post("/admin/account/", {"last_name": "", "first_name": " "})
    assert response.status_code == 200
    assert response.context["name_form"].errors


def test_change_own_password(client, login, collaborator):
    client = login(collaborator)
    response = client.post("/admin/account/password/", {
        "old_password": PASSWORD, "new_password1": "Mot-mat-khau-moi-3",
        "new_password2": "Mot-mat-khau-moi-3"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200  # still signed in on this device
    collaborator.user.refresh_from_db()
    assert collaborator.user.check_password("Mot-mat-khau-moi-3")
    assert AuditLog.objects.filter(action="account.password").count() == 1
    client.logout()
    assert not sign_in(client, collaborator.user.username, PASSWORD)
    assert sign_in(client, collaborator.user.username, "Mot-mat-khau-moi-3")


def test_wrong_old_password_is_refused(login, staff):
    response = login(staff).post("/admin/account/password/", {
        "old_password": "nope", "new_password1": "Mot-mat-khau-moi-3",
        "new_password2": "Mot-mat-khau-moi-3"})
    assert response.status_code == 200
    assert "old_password" in response.context["password_form"].errors
    staff.user.refresh_from_db()
    assert staff.user.check_password(PASSWORD)


def test_anonymous_is_sent_to_login(client):
    assert client.get("/admin/account/").url.startswith("/admin/login/")


# --- forgot password --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_login_page_links_to_forgot_password(client):
    assert 'href="/admin/password-reset/"' in client.get("/admin/login/").content.decode()


def test_forgot_password_link_works_once(client, staff, mailoutbox):
    staff.user.email = "nv@example.com"
    staff.user.save()
    response = client.post("/admin/password-reset/", {"email": "NV@example.com"})
    assert response.url == "/admin/password-reset/sent/"
    assert [m.to for m in mailoutbox] == [["nv@example.com"]]
    path = LINK.search(mailoutbox[0].body).group(1)
    set_url = client.get(path).url
    assert client.post(set_url, {"new_password1": "Quen-roi-123",
                                 "new_password2": "Quen-roi-123"}).status_code == 302
    assert sign_in(client, staff.user.username, "Quen-roi-123")
    client.logout()
    assert 'data-testid="invalid-link"' in client.get(path, follow=True).content.decode()


def test_unknown_email_looks_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post("/admin/password-reset/", {"email": "nobody@example.com"})
    assert response.url == "/admin/password-reset/sent/"
    assert mailoutbox == []


def test_new_staff_without_a_password_may_ask_for_a_link(client, tenant, mailoutbox):
    user = UserFactory(email="moi@example.com")
    user.set_unusable_password()
    user.save()
    MembershipFactory(tenant=tenant, user=user, role=Role.STAFF)
    client.post("/admin/password-reset/", {"email": "moi@example.com"})
    assert len(mailoutbox) == 1


def test_no_link_for_someone_without_an_active_shop(client, staff, mailoutbox):
    staff.user.email = "nv@example.com"
    staff.user.save()
    staff.is_active = False
    staff.save()
    client.post("/admin/password-reset/", {"email": "nv@example.com"})
    assert mailoutbox == []


def test_reset_requests_are_rate_limited(client, staff, mailoutbox):
    staff.user.email = "nv@example.com"
    staff.user.save()
    for _ in range(7):
        response = client.post("/admin/password-reset/", {"email": "nv@example.com"},
                               REMOTE_ADDR="10.9.8.7")
        assert response.url == "/admin/password-reset/sent/"
    assert len(mailoutbox) == 5
