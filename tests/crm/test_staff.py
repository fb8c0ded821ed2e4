"""Nhân sự: who may see and change the shop's staff, and what each change does."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from crm import access, services
from crm.models import AuditLog, Membership, Role
from crm.services import PasswordMethod
from tests.crm.factories import PASSWORD, MembershipFactory, UserFactory
from tests.crm.signin import sign_in

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/admin/password-reset/[^/\s]+/[^/\s]+/)")


def member_urls(member):
    base = f"/admin/staff/{member.pk}"
    return {
        "edit": (f"{base}/edit/", {"role": Role.MANAGER, "phone": ""}),
        "deactivate": (f"{base}/active/", {"active": "0"}),
        "password": (f"{base}/password/", {"method": "temporary"}),
        "unlock": (f"{base}/unlock/", {}),
    }


def new_person(**extra):
    data = {"last_name": "Võ Thị", "first_name": "Mai", "username": "vomai",
            "email": "mai@example.com", "phone": "0912 345 678", "role": Role.STAFF,
            "password_method": PasswordMethod.LINK}
    data.update(extra)
    return data


# --- who may do what --------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [
    ("owner", 200), ("manager", 200), ("staff", 403), ("collaborator", 403),
])
def test_staff_page_by_role(request, login, role, status):
    member = request.getfixturevalue(role)
    response = login(member).get("/admin/staff/")
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert member.user.username in body
        assert ('href="/admin/staff/add/"' in body) == (role == "owner")


@pytest.mark.parametrize("role", ["owner", "manager", "staff", "collaborator"])
def test_member_page_by_role(request, login, staff, role):
    member = request.getfixturevalue(role)
    response = login(member).get(f"/admin/staff/{staff.pk}/")
    assert response.status_code == (200 if role in ("owner", "manager") else 403)
    if response.status_code == 200:
        shows_buttons = 'data-testid="password-card"' in response.content.decode()
        assert shows_buttons == (role == "owner")


@pytest.mark.parametrize("role", ["manager", "staff", "collaborator"])
@pytest.mark.parametrize("action", ["add", "edit", "deactivate", "password", "unlock"])
def test_only_the_owner_changes_staff(request, login, owner, staff, role, action):
    member = request.getfixturevalue(role)
    target = staff if member != staff else owner
    before = Membership.objects.get(pk=target.pk)
    password_before = target.user.password
    url, data = (("/admin/staff/add/", new_person()) if action == "add"
                 else member_urls(target)[action])
    response = login(member).post(url, data)
    assert response.status_code == 403
    after = Membership.objects.select_related("user").get(pk=target.pk)
    assert (after.role, after.is_active) == (before.role, before.is_active)
    assert after.user.password == password_before
    assert not get_user_model().objects.filter(username="vomai").exists()
    assert not AuditLog.objects.filter(action__startswith="staff.").exists()


def test_manager_does_not_see_the_add_page(login, manager):
    assert login(manager).get("/admin/staff/add/").status_code == 403


@pytest.mark.parametrize("role", ["manager", "staff", "collaborator"])
def test_services_refuse_everyone_but_the_owner(request, tenant, staff, role):
    actor = request.getfixturevalue(role)
    calls = [
        lambda: services.staff_add(tenant=tenant, actor=actor, username="x", role=Role.STAFF,
                                   first_name="X", password_method=PasswordMethod.TEMPORARY),
        lambda: services.staff_update(tenant=tenant, actor=actor, membership=staff,
                                      role=Role.MANAGER),
        lambda: services.staff_set_active(tenant=tenant, actor=actor, membership=staff,
                                          is_active=False),
        lambda: services.staff_reset_password(tenant=tenant, actor=actor, membership=staff,
                                              method=PasswordMethod.TEMPORARY),
        lambda: services.staff_unlock(tenant=tenant, actor=actor, membership=staff),
    ]
    for call in calls:
        with pytest.raises(access.AccessDenied):
            call()


def test_owner_of_another_shop_is_refused_by_the_services(tenant, other_tenant, staff):
    intruder = MembershipFactory(tenant=other_tenant, role=Role.OWNER)
    with pytest.raises(access.AccessDenied):
        services.staff_set_active(tenant=tenant, actor=intruder, membership=staff,
                                  is_active=False)


def test_sidebar_shows_staff_to_managers_only(login, manager, staff):
    assert 'href="/admin/staff/"' in login(manager).get("/admin/").content.decode()
    assert 'href="/admin/staff/"' not in login(staff).get("/admin/").content.decode()


def test_list_shows_each_member(login, owner, staff, collaborator):
    staff.phone = "0909 111 222"
    staff.save()
    staff.user.email = "nv@example.com"
    staff.user.save()
    body = login(owner).get("/admin/staff/").content.decode()
    for member in (owner, staff, collaborator):
        assert member.display_name in body
    assert "0909 111 222" in body and "nv@example.com" in body


def test_list_query_count(login, owner, staff, collaborator, django_assert_max_num_queries):
    client = login(owner)
    client.get("/admin/staff/")
    MembershipFactory.create_batch(5, tenant=owner.tenant, role=Role.STAFF)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/staff/").status_code == 200


# --- adding people ----------------------------------------------------------------------


def test_owner_adds_a_person_who_sets_a_password_by_link(
        client, login, owner, mailoutbox, django_capture_on_commit_callbacks):
    owner.tenant.name = "Trà & Cà phê"
    owner.tenant.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post("/admin/staff/add/", new_person())
    assert response.status_code == 302
    member = Membership.objects.get(tenant=owner.tenant, user__username="vomai")
    assert (member.role, member.phone) == (Role.STAFF, "0912 345 678")
    assert member.display_name == "Võ Thị Mai"
    assert not member.user.has_usable_password()
    assert [m.to for m in mailoutbox] == [["mai@example.com"]]
    assert "vomai" in mailoutbox[0].body and "Trà & Cà phê" in mailoutbox[0].subject
    assert "Trà & Cà phê" in mailoutbox[0].body  # plain text: nothing HTML-escaped
    row = AuditLog.objects.for_tenant(owner.tenant).get(action="staff.add")
    assert row.actor == owner.user and row.object_id == member.pk
    assert row.after["role"] == Role.STAFF and row.after["existing_account"] is False

    # The link works once.
    client.logout()
    path = LINK.search(mailoutbox[0].body).group(1)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    done = client.post(form_page.redirect_chain[-1][0], {
        "new_password1": "Mai-mat-khau-9", "new_password2": "Mai-mat-khau-9"})
    assert done.status_code == 302
    assert sign_in(client, "vomai", "Mai-mat-khau-9")
    client.logout()
    again = client.get(path, follow=True)
    assert 'data-testid="invalid-link"' in again.content.decode()


def test_temporary_password_is_shown_once_and_not_cached(client, login, owner):
    response = login(owner).post("/admin/staff/add/", new_person(
        email="", password_method=PasswordMethod.TEMPORARY))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = re.search(r'data-testid="password-value">([^<]+)<',
                         response.content.decode()).group(1)
    member = Membership.objects.get(tenant=owner.tenant, user__username="vomai")
    assert member.user.check_password(password)
    assert password not in client.get(f"/admin/staff/{member.pk}/").content.decode()
    assert password not in client.get("/admin/staff/").content.decode()
    assert password not in str(AuditLog.objects.values_list("before", "after"))
    client.logout()
    assert sign_in(client, "vomai", password)


def test_a_link_needs_an_email(login, owner):
    response = login(owner).post("/admin/staff/add/", new_person(email=""))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not get_user_model().objects.filter(username="vomai").exists()


def test_a_new_account_needs_a_name(login, owner):
    response = login(owner).post("/admin/staff/add/", new_person(first_name="", last_name=""))
    assert response.context["form"].errors["first_name"]


def test_bad_phone_and_username_are_refused(login, owner):
    response = login(owner).post("/admin/staff/add/", new_person(phone="12", username="a b"))
    errors = response.context["form"].errors
    assert "phone" in errors and "username" in errors


def test_existing_account_needs_its_email(login, owner, other_tenant):
    elsewhere = MembershipFactory(tenant=other_tenant, role=Role.OWNER,
                                  user=UserFactory(username="lan", email="lan@shop-b.vn"))
    client = login(owner)
    response = client.post("/admin/staff/add/", new_person(username="lan",
                                                           email="guess@example.com"))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not Membership.objects.filter(tenant=owner.tenant, user=elsewhere.user).exists()
    # Usernames are matched whatever the case; the email too.
    response = client.post("/admin/staff/add/", new_person(username="LAN",
                                                           email="Lan@Shop-B.vn",
                                                           role=Role.MANAGER))
    assert response.status_code == 302
    added = Membership.objects.get(tenant=owner.tenant, user=elsewhere.user)
    assert added.role == Role.MANAGER
    elsewhere.user.refresh_from_db()
    assert elsewhere.user.check_password(PASSWORD)  # their password and name are untouched
    assert AuditLog.objects.get(action="staff.add").after["existing_account"] is True


def test_user_in_two_shops_has_a_role_in_each(client, login, owner, other_tenant):
    user = UserFactory(username="lan", email="lan@example.com")
    MembershipFactory(tenant=other_tenant, role=Role.OWNER, user=user)
    login(owner).post("/admin/staff/add/", new_person(username="lan", email="lan@example.com",
                                                      role=Role.COLLABORATOR))
    client.force_login(user)
    memberships = {m.tenant_id: m.role for m in Membership.objects.filter(user=user)}
    assert memberships == {other_tenant.pk: Role.OWNER, owner.tenant_id: Role.COLLABORATOR}
    client.post("/admin/switch-shop/", {"tenant": owner.tenant_id})
    assert client.get("/admin/staff/").status_code == 403  # a collaborator here
    client.post("/admin/switch-shop/", {"tenant": other_tenant.pk})
    assert client.get("/admin/staff/").status_code == 200  # the owner there


def test_adding_someone_already_in_the_shop_is_refused(login, owner, staff):
    staff.user.email = "nv@example.com"
    staff.user.save()
    response = login(owner).post("/admin/staff/add/", new_person(
        username=staff.user.username, email="nv@example.com"))
    assert response.context["form"].errors["username"]
    assert Membership.objects.filter(user=staff.user).count() == 1


# --- roles and the last owner -----------------------------------------------------------


def test_owner_changes_a_role_and_phone_with_audit(login, owner, staff):
    response = login(owner).post(f"/admin/staff/{staff.pk}/edit/",
                                 {"role": Role.MANAGER, "phone": "0988 000 111"})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert (staff.role, staff.phone) == (Role.MANAGER, "0988 000 111")
    row = AuditLog.objects.get(action="staff.update")
    assert row.before == {"role": Role.STAFF, "phone": ""}
    assert row.after == {"role": Role.MANAGER, "phone": "0988 000 111"}


def test_last_owner_cannot_demote_or_deactivate_themselves(login, owner):
    client = login(owner)
    response = client.post(f"/admin/staff/{owner.pk}/edit/", {"role": Role.MANAGER})
    assert response.status_code == 200
    assert response.context["update_form"].non_field_errors()
    client.post(f"/admin/staff/{owner.pk}/active/", {"active": "0"})
    owner.refresh_from_db()
    assert (owner.role, owner.is_active) == (Role.OWNER, True)
    assert not AuditLog.objects.filter(action__startswith="staff.").exists()
    with pytest.raises(ValidationError):
        services.staff_set_active(tenant=owner.tenant, actor=owner, membership=owner,
                                  is_active=False)


def test_an_owner_may_step_down_when_another_owner_remains(login, owner):
    second = MembershipFactory(tenant=owner.tenant, role=Role.OWNER)
    response = login(owner).post(f"/admin/staff/{owner.pk}/edit/", {"role": Role.MANAGER})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.role == Role.MANAGER
    # Now the other owner is the last one.
    with pytest.raises(ValidationError):
        services.staff_update(tenant=owner.tenant, actor=second, membership=second,
                              role=Role.STAFF)


def test_a_deactivated_owner_does_not_count(owner):
    MembershipFactory(tenant=owner.tenant, role=Role.OWNER, is_active=False)
    with pytest.raises(ValidationError):
        services.staff_update(tenant=owner.tenant, actor=owner, membership=owner,
                              role=Role.MANAGER)


# --- deactivating -----------------------------------------------------------------------


def test_deactivated_member_can_no_longer_open_the_shop(client, login, owner, staff):
    login(owner).post(f"/admin/staff/{staff.pk}/active/", {"active": "0"})
    staff.refresh_from_db()
    assert staff.is_active is False
    assert AuditLog.objects.get(action="staff.deactivate").object_id == staff.pk
    client.force_login(staff.user)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert staff.tenant.name not in response.content.decode()
    assert client.get("/admin/customers/").status_code == 403

    client.force_login(owner.user)
    client.post(f"/admin/staff/{staff.pk}/active/", {"active": "1"})
    client.force_login(staff.user)
    assert client.get("/admin/").status_code == 200
    assert AuditLog.objects.filter(action="staff.reactivate").count() == 1


def test_deactivated_in_one_shop_still_works_in_the_other(client, login, owner, staff,
                                                          other_tenant):
    MembershipFactory(tenant=other_tenant, user=staff.user, role=Role.MANAGER)
    login(owner).post(f"/admin/staff/{staff.pk}/active/", {"active": "0"})
    client.force_login(staff.user)
    body = client.get("/admin/").content.decode()
    assert other_tenant.name in body and owner.tenant.name not in body


def test_nothing_is_deleted(login, owner, staff):
    login(owner).post(f"/admin/staff/{staff.pk}/active/", {"active": "0"})
    assert Membership.objects.filter(pk=staff.pk).exists()
    body = login(owner).get("/admin/staff/").content.decode()
    assert staff.display_name in body


# --- passwords --------------------------------------------------------------------------


def test_owner_emails_a_reset_link_that_works_once(client, login, owner, staff, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    staff.user.email = "nv@example.com"
    staff.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(f"/admin/staff/{staff.pk}/password/", {"method": "link"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["nv@example.com"]]
    assert AuditLog.objects.filter(action="staff.password_link").count() == 1
    staff.user.refresh_from_db()
    assert staff.user.check_password(PASSWORD)  # unchanged until they use the link
    client.logout()
    path = LINK.search(mailoutbox[0].body).group(1)
    set_url = client.get(path).url
    client.post(set_url, {"new_password1": "Mat-khau-moi-7", "new_password2": "Mat-khau-moi-7"})
    assert sign_in(client, staff.user.username, "Mat-khau-moi-7")
    client.logout()
    assert 'data-testid="invalid-link"' in client.get(path, follow=True).content.decode()


def test_owner_gives_a_temporary_password(client, login, owner, staff):
    response = login(owner).post(f"/admin/staff/{staff.pk}/password/",
                                 {"method": "temporary"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = re.search(r'data-testid="password-value">([^<]+)<',
                         response.content.decode()).group(1)
    staff.user.refresh_from_db()
    assert staff.user.check_password(password)
    assert not staff.user.check_password(PASSWORD)
    assert AuditLog.objects.filter(action="staff.password_temporary").count() == 1
    assert password not in client.get(f"/admin/staff/{staff.pk}/").content.decode()


def test_no_temporary_password_for_someone_who_works_elsewhere(login, owner, staff,
                                                               other_tenant):
    MembershipFactory(tenant=other_tenant, user=staff.user, role=Role.OWNER)
    client = login(owner)
    page = client.get(f"/admin/staff/{staff.pk}/").content.decode()
    assert re.search(r'name="method" value="temporary">\s*<button[^>]*disabled', page)
    response = client.post(f"/admin/staff/{staff.pk}/password/", {"method": "temporary"})
    assert response.status_code == 302
    staff.user.refresh_from_db()
    assert staff.user.check_password(PASSWORD)


def test_owner_resets_their_own_password_on_my_account_only(owner):
    with pytest.raises(ValidationError):
        services.staff_reset_password(tenant=owner.tenant, actor=owner, membership=owner,
                                      method=PasswordMethod.TEMPORARY)


def test_no_reset_for_a_deactivated_member(owner, staff):
    services.staff_set_active(tenant=owner.tenant, actor=owner, membership=staff,
                              is_active=False)
    with pytest.raises(ValidationError):
        services.staff_reset_password(tenant=owner.tenant, actor=owner, membership=staff,
                                      method=PasswordMethod.TEMPORARY)


def test_member_of_another_shop_is_a_404(login, owner, other_manager):
    client = login(owner)
    assert client.get(f"/admin/staff/{other_manager.pk}/").status_code == 404
    assert client.post(f"/admin/staff/{other_manager.pk}/active/",
                       {"active": "0"}).status_code == 404
    other_manager.refresh_from_db()
    assert other_manager.is_active
