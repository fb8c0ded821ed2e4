"""Tenancy: where the active shop comes from, and the one place that scopes data to it.

* ``TenantMiddleware`` resolves the shop once per request from the user's memberships
  (the session only remembers which of *their* shops is active; it is re-validated on
  every request) and sets ``request.tenant``, ``request.membership``, ``request.memberships``.
* ``BackofficeMixin`` guards every backoffice view: signed in, member of a shop, allowed
  the view's ``action`` by the access table (``crm.access``). ``TenantScopedMixin`` gives
  the view a queryset that starts from the shop and scopes the form's choice lists the
  same way.
* ``tenant_get_object_or_404`` is the access function: a missing object and another shop's
  object are the same 404.
"""

from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import access
from .models import Membership

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


def check_action(request, action: str) -> None:
    """The view's door check, from the access table. Services check again before writing."""
    access.require(getattr(request, "membership", None), action)


def _no_shop(request):
    return render(request, "crm/no_shop.html", status=403)


def requires_action(action: str):
    """Decorator for function views: signed in, a member of a shop, allowed ``action``."""
    access.POLICY[action]  # noqa: B018 -- an unknown action fails at import, not at request

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.membership is None:
                return _no_shop(request)
            check_action(request, action)
            return view(request, *args, **kwargs)

        wrapped.access_action = action
        return wrapped

    return decorator


class BackofficeMixin(LoginRequiredMixin):
    """Every backoffice view: signed in, member of the active shop, allowed ``action``.

    ``action`` names the row of the access table (crm/access.py) needed to open the page;
    a test walks every URL and fails for a view without one.
    """

    action = "dashboard.view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.membership is None:
            return _no_shop(request)
        check_action(request, self.action)
        if (response := self.prepare(request, *args, **kwargs)) is not None:
            return response
        return super().dispatch(request, *args, **kwargs)

    def prepare(self, request, *args, **kwargs):
        """After the door checks, before the handler: load what every method needs (e.g.
        the URL's object); a response returned here is sent instead."""
        return None

    @property
    def tenant(self):
        return self.request.tenant

    @property
    def actor(self):
        return self.request.membership


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


def ensure_same_tenant(tenant, **objects) -> None:
    """Services: every related object passed in belongs to ``tenant`` (lists and sets of
    them too); ``None`` is allowed. A form scoped by ``scope_choice_fields`` never offers
    another shop's row, so this catches callers that bypass forms (API, imports, tests)."""
    for name, obj in objects.items():
        items = obj if isinstance(obj, list | tuple | set) else [obj]
        for item in items:
            if item is not None and item.tenant_id != tenant.pk:
                raise ValidationError({name: _("This choice belongs to another shop.")})
