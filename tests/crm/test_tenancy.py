import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.views.generic import DetailView, ListView

from crm.audit import audit_record
from crm.models import AuditLog, Role
from crm.tenancy import (
    SESSION_KEY,
    TenantMiddleware,
    TenantScopedMixin,
    check_action,
    tenant_get_object_or_404,
)
from tests.crm.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def run_middleware(user, session=None):
    request = RequestFactory().get("/admin/")
    request.user = user
    request.session = session if session is not None else {}
    TenantMiddleware(lambda r: r)(request)
    return request


def test_middleware_sets_tenant_from_membership(manager):
    request = run_middleware(manager.user)
    assert request.tenant == manager.tenant
    assert request.membership == manager
    assert request.session[SESSION_KEY] == manager.tenant_id


def test_middleware_ignores_session_pointing_at_foreign_shop(manager, other_tenant):
    request = run_middleware(manager.user, {SESSION_KEY: other_tenant.pk})
    assert request.tenant == manager.tenant
    assert request.session[SESSION_KEY] == manager.tenant_id


def test_middleware_keeps_chosen_shop_of_multi_shop_user(manager, other_tenant):
    second = MembershipFactory(user=manager.user, tenant=other_tenant, role=Role.STAFF)
    request = run_middleware(manager.user, {SESSION_KEY: other_tenant.pk})
    assert request.tenant == other_tenant
    assert request.membership == second
    assert len(request.memberships) == 2


def test_middleware_skips_inactive_membership_and_shop(manager, other_tenant):
    manager.is_active = False
    manager.save()
    assert run_middleware(manager.user).tenant is None
    m2 = MembershipFactory(tenant=other_tenant)
    other_tenant.is_active = False
    other_tenant.save()
    assert run_middleware(m2.user).membership is None


def test_anonymous_has_no_tenant(db):
    from django.contrib.auth.models import AnonymousUser

    request = run_middleware(AnonymousUser())
    assert request.tenant is None and request.memberships == []


class AuditList(TenantScopedMixin, ListView):
    model = AuditLog
    template_name = "crm/dashboard.html"


class AuditDetail(TenantScopedMixin, DetailView):
    model = AuditLog
    template_name = "crm/dashboard.html"


def scoped_request(membership):
    request = run_middleware(membership.user)
    return request


def test_mixin_queryset_only_holds_own_tenant(manager, other_manager):
    mine = audit_record(manager.tenant, None, "x", manager.tenant)
    theirs = audit_record(other_manager.tenant, None, "x", other_manager.tenant)
    view = AuditList()
    view.request = scoped_request(manager)
    rows = list(view.get_queryset())
    assert mine in rows and theirs not in rows


def test_mixin_detail_of_other_tenant_is_404(manager, other_manager):
    theirs = audit_record(other_manager.tenant, None, "x", other_manager.tenant)
    request = scoped_request(manager)
    with pytest.raises(Http404):
        AuditDetail.as_view()(request, pk=theirs.pk)


def test_mixin_without_tenant_gives_empty_queryset(db):
    audit_record(TenantFactory(), None, "x")
    assert AuditLog.objects.for_tenant(None).count() == 0


def test_access_function_same_404_for_missing_and_foreign(manager, other_manager):
    theirs = audit_record(other_manager.tenant, None, "x")
    qs = AuditLog.objects.for_tenant(manager.tenant)
    for pk in (theirs.pk, 999999):
        with pytest.raises(Http404):
            tenant_get_object_or_404(qs, pk=pk)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.OWNER, "customer.merge", True),
        (Role.MANAGER, "customer.merge", True),
        (Role.STAFF, "customer.merge", False),
        (Role.COLLABORATOR, "customer.create", False),
        (Role.COLLABORATOR, "customer.view", True),
        (Role.MANAGER, "settings.edit", False),
    ],
)
def test_check_action(tenant, role, action, allowed):
    request = run_middleware(MembershipFactory(tenant=tenant, role=role).user)
    if allowed:
        check_action(request, action)
    else:
        with pytest.raises(PermissionDenied):
            check_action(request, action)


def test_no_membership_sees_clear_page_not_data(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "chưa thuộc cửa hàng nào" in response.content.decode()


def test_backoffice_redirects_anonymous_to_login(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_settings_requires_manager(login, staff):
    assert login(staff).get("/admin/settings/").status_code == 403
