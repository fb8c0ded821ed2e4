"""The group screens (menu Nhóm KH, /admin/customers/groups/) and the profile's Nhóm tab.

Thin views on crm.generic: the list of groups, the form with its rule builder
(static/js/groups.js) and live count, the group page (its header above the shared customer
list narrowed to the members: same columns, search, filters and bulk actions), the lists
made by hand, archive / restore, recompute with its progress, and "Vì sao?".
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from crm import access
from crm.filters import TenantFilterSet
from crm.generic import ReturnURLMixin, TenantListView
from crm.tenancy import BackofficeMixin, TenantScopedMixin, tenant_get_object_or_404
from customers.models import Customer
from customers.selectors import scope_customers
from customers.views import CustomerListView, CustomerScopedMixin, CustomerTabView

from . import selectors, services
from .forms import CountForm, GroupBulkForm, GroupForm, PinForm
from .models import CustomerGroup, GroupKind, PinMode, RecomputeState
from .tables import GROUP_COLUMNS, WHY_COLUMN


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


class GroupFilterSet(TenantFilterSet):
    """No filter panel: the list's tabs (in use / archived) are its only filter."""

    class Meta:
        model = CustomerGroup
        fields: list[str] = []


class GroupMixin(TenantScopedMixin):
    model = CustomerGroup
    action = "group.view"


class GroupObjectMixin(GroupMixin):
    """The group of the URL's ``pk`` in the shop (another shop's is a 404), as ``group``."""

    def prepare(self, request, *args, **kwargs):
        self.group = tenant_get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        self.group.tenant = request.tenant  # the same shop, already loaded: no query
        return None

    def group_url(self) -> str:
        return reverse("groups:group_detail", kwargs={"pk": self.group.pk})


# --- the list -----------------------------------------------------------------------------

class GroupListView(GroupMixin, TenantListView):
    template_name = "groups/group_list.html"
    table_template = "groups/_group_table.html"
    filterset_class = GroupFilterSet
    columns = GROUP_COLUMNS

    @property
    def archived(self) -> bool:
        return self.request.GET.get("archived") == "1"

    def get_queryset(self):
        return selectors.groups_of(self.tenant, archived=self.archived)

    def search(self, queryset, query):
        return selectors.group_search(queryset, query)

    def get_result(self, queryset, **page):
        return selectors.group_list(queryset=queryset, **page)

    def get_context_data(self, **kwargs):
        can_manage = access.can(self.actor, "group.manage")
        return super().get_context_data(
            archived=self.archived, can_manage=can_manage,
            bulk_form=GroupBulkForm(tenant=self.tenant) if can_manage and not self.archived
            else None, **kwargs)


class GroupBulkView(ReturnURLMixin, GroupMixin, View):
    """The list's action over the selected groups: a tag for all their members."""

    action = "group.manage"

    def post(self, request):
        form = GroupBulkForm(request.POST, tenant=request.tenant)
        back = self.get_return_url(reverse("groups:group_list"))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        groups, tag = form.cleaned_data["codes"], form.cleaned_data["tag"]
        try:
            changed = services.groups_add_tag(tenant=request.tenant, actor=self.actor,
                                              groups=groups, tag=tag)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, ngettext(
                "Tag “%(tag)s” added to %(n)d customer of the selected groups.",
                "Tag “%(tag)s” added to %(n)d customers of the selected groups.", changed)
                % {"tag": tag.name, "n": changed})
        return redirect(back)


# --- the form and its live count -----------------------------------------------------------

class GroupFormMixin(ReturnURLMixin):
    action = "group.manage"
    template_name = "groups/group_form.html"
    form_class = GroupForm
    group = None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["group"] = self.group
        return kwargs

    def get_context_data(self, **kwargs):
        from customers.fields import field_catalog

        catalog = field_catalog(self.tenant)
        if self.group is not None:  # "Thuộc nhóm" offers the other groups only
            for field in catalog:
                if field["key"] == "group":
                    field["choices"] = [c for c in field["choices"]
                                        if c["value"] != self.group.pk]
        return super().get_context_data(group=self.group, catalog=catalog, **kwargs)

    def form_valid(self, form):
        try:
            group = self.save(form.service_data())
        except ValidationError as error:
            by_field = error.error_dict if hasattr(error, "error_dict") else {None: error}
            for name, errors in by_field.items():
                form.add_error(name if name in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message(group))
        return redirect("groups:group_detail", pk=group.pk)


class GroupCreateView(GroupFormMixin, GroupMixin, FormView):
    def save(self, data):
        return services.group_create(tenant=self.tenant, actor=self.actor, data=data)

    def success_message(self, group):
        if group.has_rule:
            return _("Group “%(name)s” created; its members are being computed.") % {
                "name": group.name}
        return _("Group “%(name)s” created: add its customers below.") % {"name": group.name}


class GroupUpdateView(GroupFormMixin, GroupObjectMixin, FormView):
    def save(self, data):
        return services.group_update(tenant=self.tenant, actor=self.actor, group=self.group,
                                     data=data)

    def success_message(self, group):
        return _("Saved “%(name)s”.") % {"name": group.name}


class GroupCountView(BackofficeMixin, View):
    """How many customers the conditions being edited match (htmx, debounced by the form):
    a capped count (groups.selectors.rule_match_count), or why the rule cannot be read yet."""

    action = "group.manage"

    def post(self, request):
        form = CountForm(request.POST, tenant=request.tenant)
        context = {"count": None, "errors": []}
        if form.is_valid():
            try:
                context.update(selectors.rule_match_count(request.tenant,
                                                          form.cleaned_data["rule"]))
            except ValidationError as error:
                context["errors"] = error.messages
        else:
            context["errors"] = [e for errors in form.errors.values() for e in errors]
        return render(request, "groups/_live_count.html", context)


# --- the group page --------------------------------------------------------------------------

class GroupDetailView(CustomerListView):
    """"Chi tiết": the group's header, then the customer list itself narrowed to the
    members (the list's columns, search, filters, bulk actions and count), each row with
    "Vì sao?". The table's htmx requests come back here, so the search stays in the group."""

    action = "group.view"
    template_name = "groups/group_detail.html"

    def prepare(self, request, *args, **kwargs):
        self.group = tenant_get_object_or_404(CustomerGroup.objects.for_tenant(request.tenant),
                                              pk=kwargs["pk"])
        self.group.tenant = request.tenant
        return super().prepare(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.group_customers(self.group, super().get_queryset())

    def get_columns(self):
        """The list's columns with "Vì sao?" after the name (at the end it would scroll
        out of sight behind the figures)."""
        columns = super().get_columns()
        at = next((i + 1 for i, c in enumerate(columns) if c.key == "name"), len(columns))
        return [*columns[:at], WHY_COLUMN, *columns[at:]]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(group=self.group, **kwargs)
        if self.template_name not in self.get_template_names():
            return context  # the table's htmx request: rows only
        context.update(group_header(self.request, self.group))
        # The column chooser offers the list's own columns ("Vì sao?" is the page's).
        context["chooser_columns"] = [c for c in context["columns"] if c is not WHY_COLUMN]
        return context


def group_header(request, group) -> dict:
    """What the group page shows above its members."""
    from customers.rules import rule_describe

    sentences, rule_error = [], ""
    if group.has_rule:
        try:
            sentences = rule_describe(request.tenant, group.rule)
        except (ValidationError, KeyError, AttributeError):
            rule_error = _("The conditions refer to something that no longer exists: edit "
                           "them.")
    can_manage = access.can(request.membership, "group.manage")
    visible = scope_customers(Customer.objects.for_tenant(request.tenant), request.membership)
    pins = selectors.group_pins(group)
    return {
        "sentences": sentences, "rule_error": rule_error, "can_manage": can_manage,
        "last_run": selectors.group_last_run(group), "pins": pins,
        "pin_lists": [(PinMode.INCLUDE, _("Always in the group"), pins[PinMode.INCLUDE]),
                      (PinMode.EXCLUDE, _("Always left out"), pins[PinMode.EXCLUDE])],
        "pin_form": PinForm(visible=visible) if can_manage and not group.is_archived else None,
        "busy": group.recompute_state in (RecomputeState.QUEUED, RecomputeState.RUNNING),
    }


class GroupStatusView(GroupObjectMixin, TemplateView):
    """The header's recompute status, polled by htmx while a run is queued or running.
    When a polled run has finished, the page reloads to show the new members."""

    template_name = "groups/_group_status.html"

    def get(self, request, *args, **kwargs):
        busy = self.group.recompute_state in (RecomputeState.QUEUED, RecomputeState.RUNNING)
        response = render(request, self.template_name, {
            "group": self.group, "busy": busy, "can_manage": access.can(self.actor,
                                                                         "group.manage"),
            "last_run": selectors.group_last_run(self.group)})
        if request.htmx and not busy and request.GET.get("poll"):
            response["HX-Refresh"] = "true"
        return response


class GroupRecomputeView(GroupObjectMixin, View):
    action = "group.manage"

    def post(self, request, pk):
        try:
            services.group_recompute_request(tenant=request.tenant, actor=self.actor,
                                             group=self.group, trigger="manual")
        except ValidationError as error:
            _errors(request, error)
        return redirect(self.group_url())


class GroupArchiveView(GroupObjectMixin, View):
    action = "group.manage"
    archive = True

    def post(self, request, pk):
        service = services.group_archive if self.archive else services.group_restore
        group = service(tenant=request.tenant, actor=self.actor, group=self.group)
        messages.success(request, (_("Group “%(name)s” archived. Restore it from the "
                                     "Archived tab.") if self.archive
                                   else _("Group “%(name)s” restored.")) % {"name": group.name})
        return redirect(self.group_url())


class GroupPinView(ReturnURLMixin, GroupObjectMixin, View):
    """Add a customer to the lists made by hand (a fixed list's members, a rule group's
    always-include / always-exclude), or take one off (``remove``)."""

    action = "group.manage"
    remove = False

    def post(self, request, pk):
        visible = scope_customers(Customer.objects.for_tenant(request.tenant), self.actor)
        back = self.get_return_url(self.group_url())
        form = PinForm(request.POST, visible=visible)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        customer, mode = form.cleaned_data["customer"], form.cleaned_data["mode"]
        common = {"tenant": request.tenant, "actor": self.actor, "group": self.group,
                  "customer_ids": [customer.pk]}
        try:
            if self.remove:
                changed = services.group_pins_remove(**common)
            else:
                changed = services.group_pins_add(**common, mode=mode)
        except ValidationError as error:
            _errors(request, error)
            return redirect(back)
        messages.success(request, self.message(customer, mode, changed))
        return redirect(back)

    def message(self, customer, mode, changed) -> str:
        who = {"code": customer.code, "name": customer.full_name}
        if not changed:
            return _("Nothing to change for %(code)s – %(name)s.") % who
        if self.remove:
            return (_("%(code)s – %(name)s removed from the group.") if not self.group.has_rule
                    else _("%(code)s – %(name)s taken off the list; the group is being "
                           "recomputed.")) % who
        if not self.group.has_rule:
            return _("%(code)s – %(name)s added to the group.") % who
        if mode == PinMode.EXCLUDE:
            return _("%(code)s – %(name)s will always be left out; the group is being "
                     "recomputed.") % who
        return _("%(code)s – %(name)s will always be in the group; the group is being "
                 "recomputed.") % who


class GroupExplainView(CustomerScopedMixin, View):
    """"Vì sao?": each condition with the customer's value and ✓/✗, the lists made by hand,
    and when the customer joined or left. A fragment for htmx, else a page."""

    action = "group.view"

    def get(self, request, pk, code):
        group = tenant_get_object_or_404(CustomerGroup.objects.for_tenant(request.tenant),
                                         pk=pk)
        group.tenant = request.tenant
        customer = tenant_get_object_or_404(self.get_queryset(), code=code.upper())
        back = ((request.htmx.current_url_abs_path if request.htmx else None)
                or reverse("groups:group_detail", kwargs={"pk": group.pk}))
        context = {"why": selectors.group_explain(group, customer), "group": group,
                   "customer": customer, "back": back,
                   "in_profile": request.GET.get("in") == "profile",
                   "can_manage": access.can(self.actor, "group.manage")
                   and not group.is_archived}
        template = "groups/_explain.html" if request.htmx else "groups/explain.html"
        return render(request, template, context)


# --- the profile's Nhóm tab ------------------------------------------------------------------

class CustomerGroupsTabView(CustomerTabView):
    action = "group.view"
    tab_key = "groups"
    tab_template = "groups/tabs/customer_groups.html"

    def tab_context(self, customer):
        return {"group_rows": selectors.customer_groups(customer),
                "fixed_kind": GroupKind.FIXED}
