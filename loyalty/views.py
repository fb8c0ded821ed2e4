"""The loyalty screens: the profile's Điểm tab and "Cập nhật điểm" (in a dialog over the
profile, or a page of its own without JavaScript), and the Tích điểm page (menu) with the
program's terms, the tiers and their customers, the nightly ledger check and the shop's
latest ledger rows, the program's settings and the tier forms.

Thin views on crm.generic and the customers app's profile mixins; writes go through
loyalty.services, reads through loyalty.selectors.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView
from django_htmx.http import HttpResponseClientRedirect

from crm import access
from crm.forms import add_service_errors
from crm.generic import TenantListView
from crm.tables import Column
from crm.tenancy import BackofficeMixin, tenant_get_object_or_404
from customers.views import CustomerProfileMixin, CustomerTabView

from . import selectors, services
from .forms import LedgerFilterSet, PointsAdjustForm, ProgramForm, TierForm
from .models import EntryKind, PointEntry, Tier, TierBasis
from .services.ledger import points_text

CELLS = "loyalty/cells.html#"

# The shop's ledger on the Tích điểm page.
LEDGER_COLUMNS = [
    # At phone width a row is one card: this cell alone (hidden from sm up).
    Column("card", "", cell=CELLS + "entry_card", card=True, css="d-sm-none w-100"),
    Column("date", gettext_lazy("Date of use"), cell=CELLS + "entry_date", css="text-nowrap"),
    Column("customer", gettext_lazy("Customer"), cell=CELLS + "entry_customer"),
    Column("kind", gettext_lazy("Kind"), cell=CELLS + "entry_kind"),
    Column("content", gettext_lazy("Content"), cell=CELLS + "entry_content"),
    Column("points", gettext_lazy("Points"), cell=CELLS + "entry_points",
           css="text-end text-nowrap"),
    Column("actor", gettext_lazy("Done by"), cell=CELLS + "entry_actor"),
    Column("recorded", gettext_lazy("Recorded at"), cell=CELLS + "entry_recorded",
           css="text-nowrap text-secondary"),
]

KIND_TONES = {EntryKind.EARN: "green", EntryKind.REDEEM: "azure", EntryKind.MANUAL: "purple",
              EntryKind.REVERSAL: "orange", EntryKind.EXPIRY: "secondary"}


def _with_tones(entries):
    """Each entry's badge colour, by kind."""
    for entry in entries:
        entry.tone = KIND_TONES.get(entry.kind, "secondary")
    return entries


def _before_id(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


# --- the profile: Điểm tab and "Cập nhật điểm" -----------------------------------------------

class CustomerPointsTabView(CustomerTabView):
    """Điểm: balance, lifetime points, tier and the way to the next one, then the ledger
    with the balance after each entry, newest first. "Xem thêm" (htmx) brings the next
    rows only; without JavaScript it opens the tab from there."""

    action = "points.view"
    tab_key = "points"
    tab_template = "loyalty/tabs/points.html"
    rows_template = "loyalty/tabs/_ledger_rows.html"

    def get(self, request, *args, **kwargs):
        before = _before_id(request)
        if before is not None and request.htmx and not request.htmx.boosted:
            return render(request, self.rows_template,
                          {"customer": self.customer, **self.tab_context(self.customer)})
        return super().get(request, *args, **kwargs)

    def tab_context(self, customer):
        before = _before_id(self.request)
        context = selectors.points_tab(customer, before_id=before)
        _with_tones(context["ledger"]["entries"])
        return {"older": before is not None, **context}


class PointsAdjustView(CustomerProfileMixin, FormView):
    """"Cập nhật điểm" (manager): add or subtract points with a date of use and a reason.
    In the profile's dialog (htmx: the form comes back with its errors; on success the
    page opens the Điểm tab with the new balance) or as a page of its own."""

    action = "points.adjust"
    form_class = PointsAdjustForm
    template_name = "loyalty/points_adjust.html"
    fragment_template = "loyalty/_adjust_form.html"

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return [self.fragment_template]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            customer=self.customer, account=selectors.account_of(self.customer),
            in_dialog=bool(self.request.htmx), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            posted = services.points_adjust(
                tenant=self.tenant, actor=self.actor, customer=self.customer,
                delta=form.signed_delta(), effective_date=data["effective_date"],
                reason=data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Points updated: new balance %(balance)s points.")
                         % {"balance": points_text(posted.account.balance)})
        target = reverse("loyalty:customer_points", kwargs={"code": self.customer.code})
        # The dialog's page loads the Điểm tab afresh: the card's points and tier, the
        # ledger's new row and the message, with the dialog closed.
        return HttpResponseClientRedirect(target) if self.request.htmx else redirect(target)


# --- the Tích điểm page ----------------------------------------------------------------------

class ProgramView(TenantListView):
    """Tích điểm (menu, managers): the program's terms in words, the tiers with their
    customers, the last nightly check, and the shop's latest ledger rows with filters. The
    filters move the table only (htmx). Fast at a million customers: one COUNT of the
    shop's customers (the base tier's share), the rest by index."""

    model = PointEntry
    action = "loyalty.view"
    template_name = "loyalty/program.html"
    table_template = "loyalty/_ledger_table.html"
    filterset_class = LedgerFilterSet
    columns = LEDGER_COLUMNS
    page_sizes = (25, 50, 100)
    default_page_size = 25

    def get_result(self, queryset, *, sort, after, before, size, count=True):
        result = selectors.ledger_page(queryset, after=after, before=before, size=size)
        _with_tones(result.page.rows)
        return result

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.template_name not in self.get_template_names():
            return context  # the table's htmx request: rows only
        program = selectors.program_of(self.tenant)
        tiers = services.tiers_of(self.tenant)
        tier_rows = selectors.tier_distribution(self.tenant, tiers) if tiers else []
        check = selectors.latest_check(self.tenant)
        context.update(
            program=program, by_spend=program.tier_basis == TierBasis.SPEND,
            channels=selectors.program_channels(program) if program.enabled else [],
            tier_rows=tier_rows, check=check,
            # The check runs at 04:00: one of the last day and a half is "last night's".
            check_recent=check is not None
            and check.ran_at >= timezone.now() - datetime.timedelta(hours=36),
            can_manage=access.can(self.actor, "loyalty.manage"))
        return context


class ProgramEditView(BackofficeMixin, FormView):
    """The program's settings (owner, manager)."""

    action = "loyalty.manage"
    template_name = "loyalty/program_form.html"
    form_class = ProgramForm

    def prepare(self, request, *args, **kwargs):
        self.program = selectors.program_of(request.tenant)
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(tenant=self.tenant, program=self.program)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            program=self.program, tiers=services.tiers_of(self.tenant),
            by_spend=self.program.tier_basis == TierBasis.SPEND, **kwargs)

    def form_valid(self, form):
        was_on = self.program.enabled and not self.program._state.adding
        try:
            program = services.program_save(tenant=self.tenant, actor=self.actor,
                                            data=form.service_data(),
                                            channels=list(form.cleaned_data["earn_channels"]))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if program.enabled and not was_on:
            messages.success(self.request, _("The loyalty program is on: delivered orders "
                                             "earn points from now on."))
        elif not program.enabled and was_on:
            messages.success(self.request, _("The loyalty program is off: nothing is earned "
                                             "and the profile no longer shows points. Points "
                                             "already given are kept."))
        else:
            messages.success(self.request, _("Loyalty program saved."))
        return redirect("loyalty:program")


class TierMixin(BackofficeMixin):
    action = "loyalty.manage"
    tier = None

    def prepare(self, request, *args, **kwargs):
        if "pk" in kwargs:
            self.tier = tenant_get_object_or_404(Tier.objects.for_tenant(request.tenant),
                                                 pk=kwargs["pk"])
        return None


class TierEditView(TierMixin, FormView):
    """Add a tier, or edit one (name, threshold, colour)."""

    template_name = "loyalty/tier_form.html"
    form_class = TierForm

    def prepare(self, request, *args, **kwargs):
        super().prepare(request, *args, **kwargs)
        self.by_spend = selectors.program_of(request.tenant).tier_basis == TierBasis.SPEND
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["by_spend"] = self.by_spend
        if self.tier is not None and self.request.method == "GET":
            kwargs["initial"] = {"name": self.tier.name, "threshold": self.tier.threshold,
                                 "color": self.tier.color}
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(tier=self.tier, by_spend=self.by_spend, **kwargs)

    def form_valid(self, form):
        try:
            tier = services.tier_save(tenant=self.tenant, actor=self.actor, tier=self.tier,
                                      data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Tier “%(name)s” saved; customers move to their "
                                         "tier in a moment.") % {"name": tier.name})
        return redirect("loyalty:program")


class TierDeleteView(TierMixin, View):
    def post(self, request, pk):
        name = self.tier.name
        try:
            services.tier_delete(tenant=request.tenant, actor=self.actor, tier=self.tier)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Tier “%(name)s” removed; its customers move to the "
                                        "tier their points reach.") % {"name": name})
        return redirect("loyalty:program")
