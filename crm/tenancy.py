"""Tenancy: where the active shop comes from, and the one place that scopes data to it.

* ``TenantMiddleware`` resolves the shop once per request from the user's memberships
  (the session only remembers which of *their* shops is active; it is re-validated on
  every request) and sets ``request.tenant``, ``request.membership``, ``request.memberships``.
* ``BackofficeMixin`` guards every backoffice view: signed in, member of a shop, role high
  enough. ``TenantScopedMixin`` gives the view a queryset that starts from the shop and
  scopes the form's choice lists the same way.
* ``tenant_get_object_or_404`` is the access function: a missing object and another shop's
  object are the same 404.
"""

from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from .models import ROLE_RANK, Membership, Role

SESSION_KEY = "active_tenant_id"


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(
                Membership.objects.active().filter(user=user).select_related("tenant", "user")
                .order_by("tenant__name")
            )
            if memberships:
                wanted = request.session.get(SESSION_KEY)
                chosen = next((m for m in memberships if m.tenant_id == wanted), memberships[0])
                if wanted != chosen.tenant_id:
                    request.session[SESSION_KEY] = chosen.tenant_id
                request.tenant = chosen.tenant
                request.membership = chosen
                request.memberships = memberships
        return self.get_response(request)


def switch_tenant(request, tenant_id: int) -> bool:
    """Make ``tenant_id`` the active shop if the user is a member of it."""
    if not any(m.tenant_id == tenant_id for m in request.memberships):
        return False
    request.session[SESSION_KEY] = tenant_id
    return True


def check_role(request, minimum: str) -> None:
    """The single role check. Raises PermissionDenied below ``minimum``."""
    membership = getattr(request, "membership", None)
    if membership is None or ROLE_RANK[membership.role] < ROLE_RANK[minimum]:
        raise PermissionDenied(_("Your role in this shop does not allow this action."))


def _no_shop(request):
    return render(request, "crm/no_shop.html", status=403)


def requires_role(minimum: str = Role.COLLABORATOR):
    """Decorator for function views: signed in, a member of a shop, at least ``minimum``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.membership is None:
                return _no_shop(request)
            check_role(request, minimum)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class BackofficeMixin(LoginRequiredMixin):
    """Every backoffice view: signed in, member of the active shop, role >= required_role."""

    required_role = Role.COLLABORATOR

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.membership is None:
            return _no_shop(request)
        check_role(request, self.required_role)
        return super().dispatch(request, *args, **kwargs)

    @property
    def tenant(self):
        return self.request.tenant


def scope_choice_fields(form, tenant) -> None:
    """Limit every model choice field of ``form`` to rows of ``tenant``.

    Applied to every backoffice form and filter form, so a new field is scoped without
    anyone remembering to do it; a queryset over a model without a tenant is left alone.
    """
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is None:
            continue
        if any(f.name == "tenant" for f in queryset.model._meta.concrete_fields):
            field.queryset = queryset.filter(tenant=tenant) if tenant else queryset.none()


class TenantFormMixin:
    """Forms that take ``tenant=`` and scope their choices to it."""

    def __init__(self, *args, tenant, **kwargs):
        self.tenant = tenant
        super().__init__(*args, **kwargs)
        scope_choice_fields(self, tenant)


class TenantScopedMixin(BackofficeMixin):
    """Queryset and form choices of the view start from the active shop."""

    model = None

    def get_queryset(self):
        return self.scope_queryset(self.model.objects.for_tenant(self.request.tenant))

    def scope_queryset(self, queryset):
        """Narrow further by role (e.g. a collaborator's own customers). Default: no-op."""
        return queryset

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["tenant"] = self.request.tenant
        return kwargs


def tenant_get_object_or_404(queryset, **lookup):
    """Fetch one object from an already tenant-scoped queryset; anything else is a 404."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404(_("Not found in this shop.")) from exc
