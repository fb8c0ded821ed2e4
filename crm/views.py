import logging
import uuid

from django.contrib import messages
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView, TemplateView

from . import access, dashboard, registry, services
from .forms import ShopSettingsForm, SwitchTenantForm
from .tenancy import BackofficeMixin, requires_action, switch_tenant

logger = logging.getLogger(__name__)


class DashboardView(BackofficeMixin, TemplateView):
    """The morning page: figures, charts and lists the apps register
    (``registry.register_dashboard_card``), those the member's role may see, computed for
    the customers they see and cached a few minutes (crm.dashboard). POST: "Làm mới"."""

    template_name = "crm/dashboard.html"

    def cards(self) -> list:
        return [card for card in registry.dashboard_cards if access.can(self.actor, card.action)]

    def figures_context(self):
        return dashboard.DashboardContext.build(self.request.tenant, self.actor)

    def post(self, request):
        dashboard.forget(self.cards(), self.figures_context())
        return redirect("crm:dashboard")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        cards = self.cards()
        figures = dashboard.figures(cards, self.figures_context())
        shown = [(card, figures[card.key]["data"]) for card in cards if card.key in figures]
        ctx["kpi_cards"] = [(card, data) for card, data in shown if card.kind == "kpi"]
        ctx["panel_cards"] = [(card, data) for card, data in shown if card.kind != "kpi"]
        ctx["figures_at"] = min((entry["at"] for entry in figures.values()), default=None)
        return ctx


@require_POST
@requires_action("dashboard.view")
def switch_tenant_view(request):
    form = SwitchTenantForm(request.POST)
    if not form.is_valid() or not switch_tenant(request, form.cleaned_data["tenant"]):
        messages.error(request, _("You are not a member of that shop."))
    else:
        messages.success(request, _("Switched shop."))
    # Another shop's page would be a 404 after the switch: go to its dashboard.
    return redirect("crm:dashboard")


class SettingsView(BackofficeMixin, FormView):
    action = "settings.view"
    template_name = "crm/settings.html"
    form_class = ShopSettingsForm
    success_url = reverse_lazy("crm:settings")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.request.tenant
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not access.can(self.actor, "settings.edit"):
            for field in form.fields.values():
                field.disabled = True
        return form

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sections"] = [s for s in registry.settings_sections
                           if access.can(self.actor, s.action)]
        return ctx

    def form_valid(self, form):
        services.tenant_update_settings(
            tenant=self.request.tenant, actor=self.actor, data=form.cleaned_data
        )
        messages.success(self.request, _("Shop settings saved."))
        return super().form_valid(form)



@never_cache
@require_GET
def healthz(request):
    """Liveness for the container healthcheck: the process answers, no database involved
    (a database outage must not make the orchestrator restart healthy web processes)."""
    return HttpResponse("ok", content_type="text/plain")


def server_error(request):
    """handler500: a page with a short id that the log line carries, so a shop can quote
    it to support and the operator finds the traceback.

    500.html is rendered without the request: no context processor or database query may
    run when something is already broken (the database may be the thing that is down).
    """
    error_id = uuid.uuid4().hex[:8]
    # Called inside Django's except block, so logger.exception has the traceback.
    logger.exception("Server error %s on %s %s", error_id, request.method, request.path,
                     extra={"error_id": error_id})
    try:
        response = HttpResponseServerError(
            loader.get_template("500.html").render({"error_id": error_id}))
    except Exception:  # a broken template or static manifest must still give a 500 page
        logger.exception("Could not render 500.html for error %s", error_id)
        response = HttpResponseServerError(
            _("Server error. Error id: %(error_id)s") % {"error_id": error_id},
            content_type="text/plain; charset=utf-8")
    # Django's django.request logger would log the same traceback again without the id.
    response._has_been_logged = True
    return response


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: most failures are a form left open past the session or cookies
    blocked; say so in the shop's language instead of Django's English page. Django has
    already logged the reason (django.security.csrf)."""
    return render(request, "403_csrf.html", status=403)
