"""The customer list's saved filters: the chips above the list (a ``crm.registry``
toolbar: the customers app does not import groups), "Thêm bộ lọc", rename, delete, "use its
columns", and "Tạo nhóm từ bộ lọc".

A chip is a plain link to the list in the filter's state (search, filters, sort, page
size); it does not change the viewer's columns. A saved filter keeps the columns shown when
it was saved, and its menu's "Dùng các cột đã lưu" makes them the viewer's columns (a POST:
the columns are a person's setting of the list, kept until they change them again).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView
from django_htmx.http import HttpResponseClientRedirect

from crm import access
from crm import services as crm_services
from crm.access import AccessDenied
from crm.forms import add_service_errors
from crm.generic import ReturnURLMixin
from crm.tenancy import BackofficeMixin, tenant_get_object_or_404
from customers.selectors import DEFAULT_SORT

from . import services
from .filter_forms import SavedFilterEditForm, SavedFilterForm
from .saved_filters import (
    BUILT_IN,
    built_in_filter,
    channel_filters,
    list_state,
    state_key,
)
from .services.saved import may_delete, visible_saved_filters

SAVE_FORM_ID = "saved-filter-%s"


def _list_url(query: str = "") -> str:
    url = reverse("customers:customer_list")
    return f"{url}?{query}" if query else url


def _customer_columns():
    """The customer list's column choice (whatever the customers app makes it)."""
    from customers.views import CustomerListView

    return CustomerListView.column_choice


# --- the chips above the customer list ----------------------------------------------------

def _chip(key: str, label, query: str, current: tuple, **extra) -> dict:
    return {"key": key, "label": label, "query": query, "url": _list_url(query),
            "active": state_key(query) == current, **extra}


def chips_context(request, list_context: dict) -> dict:
    """The toolbar's values: the built-in filters, the channel filters, the shop's shared
    filters and the viewer's own, in that order, each marked active when the list is in
    its state. Two queries: the channels and the saved filters the viewer sees."""
    tenant, actor = request.tenant, request.membership
    current = state_key(request.GET)
    can_group = access.can(actor, "group.manage")
    built_in = [_chip(f.key, f.label, f.query, current, note=f.note, icon=f.icon)
                for f in BUILT_IN]
    channels = [_chip(f.key, f.label, f.query, current, icon=f.icon)
                for f in channel_filters(tenant)]
    shared, own = [], []
    for saved in visible_saved_filters(tenant, actor):
        mine = saved.owner_id == actor.pk
        chip = _chip(str(saved.pk), saved.name, saved.query, current, saved=saved, mine=mine,
                     owner=saved.owner.display_name, columns=len(saved.columns),
                     can_edit=mine, can_delete=may_delete(actor, saved))
        chip["has_menu"] = bool(chip["can_edit"] or chip["can_delete"] or saved.columns
                                or can_group)
        (shared if saved.shared else own).append(chip)
    active = next((c for c in [*built_in, *channels, *shared, *own] if c["active"]), None)
    return {
        "built_in": built_in, "channels": channels, "shared": shared, "own": own,
        "active": active, "active_channel": next((c for c in channels if c["active"]), None),
        "default_sort": DEFAULT_SORT, "can_group": can_group,
        "can_save": access.can(actor, "filter.save"),
        "form": SavedFilterForm(actor=actor, auto_id=SAVE_FORM_ID,
                                initial={"query": list_state(request.GET)}),
        "has_state": bool(current),
    }


# --- "Thêm bộ lọc" ------------------------------------------------------------------------

class SavedFilterCreateView(BackofficeMixin, FormView):
    """The dialog's form posts here (htmx: errors come back into the dialog, success
    reloads the list in the saved state); without JavaScript it is a page of its own."""

    action = "filter.save"
    form_class = SavedFilterForm
    template_name = "groups/saved_filters/form_page.html"
    fragment_template = "groups/saved_filters/_save_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(actor=self.actor, auto_id=SAVE_FORM_ID)
        return kwargs

    def get_initial(self):
        return {"query": list_state(self.request.GET)}

    def get_template_names(self):
        if self.request.htmx:
            return [self.fragment_template]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        query = form.data.get("query", "") if form.is_bound else form.initial.get("query", "")
        context["summary"] = describe_state(self.tenant, query)
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        columns = ([c.key for c in _customer_columns().chosen(self.tenant, self.request.user)]
                   if data.get("with_columns") else [])
        try:
            saved = services.saved_filter_create(
                tenant=self.tenant, actor=self.actor, name=data["name"], query=data["query"],
                columns=columns, shared=bool(data.get("shared")))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Filter “%(name)s” saved.") % {"name": saved.name})
        target = _list_url(saved.query)
        return HttpResponseClientRedirect(target) if self.request.htmx else redirect(target)


def describe_state(tenant, query: str) -> list[str]:
    """What a list state filters, in sentences (the dialog shows what it will keep)."""
    from customers.filters import query_to_rule
    from customers.rules import rule_describe

    try:
        return rule_describe(tenant, query_to_rule(tenant, list_state(query)))
    except ValidationError:
        return []



# --- one saved filter: rename, delete, use its columns, make a group ---------------------

class SavedFilterMixin(ReturnURLMixin, BackofficeMixin):
    """The saved filter of the URL among those the member sees (another person's private
    filter, or another shop's, is a 404)."""

    action = "filter.save"

    def prepare(self, request, *args, **kwargs):
        self.saved = tenant_get_object_or_404(
            visible_saved_filters(request.tenant, request.membership), pk=kwargs["pk"])
        return None

    def back(self) -> str:
        return self.get_return_url(_list_url(self.saved.query))


class SavedFilterEditView(SavedFilterMixin, FormView):
    template_name = "groups/saved_filters/edit.html"
    form_class = SavedFilterEditForm

    def prepare(self, request, *args, **kwargs):
        super().prepare(request, *args, **kwargs)
        if self.saved.owner_id != self.actor.pk:
            raise AccessDenied("filter.save", _("Only the person who saved a filter changes "
                                                "it."))
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["actor"] = self.actor
        return kwargs

    def get_initial(self):
        return {"name": self.saved.name, "shared": self.saved.shared}

    def get_context_data(self, **kwargs):
        return super().get_context_data(saved=self.saved, back=self.back(), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            saved = services.saved_filter_update(
                tenant=self.tenant, actor=self.actor, saved_filter=self.saved,
                name=data["name"], shared=data["shared"] if "shared" in form.fields else None)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Filter “%(name)s” saved.") % {"name": saved.name})
        return redirect(self.back())


class SavedFilterDeleteView(SavedFilterMixin, View):
    def post(self, request, pk):
        name = self.saved.name
        services.saved_filter_delete(tenant=request.tenant, actor=self.actor,
                                     saved_filter=self.saved)
        messages.success(request, _("Filter “%(name)s” deleted.") % {"name": name})
        return redirect(self.get_return_url(_list_url()))


class SavedFilterColumnsView(SavedFilterMixin, View):
    """"Dùng các cột đã lưu": the filter's columns become the member's columns of the list,
    and the list opens in the filter's state."""

    action = "customer.view"

    def post(self, request, pk):
        if self.saved.columns:
            crm_services.list_columns_save(tenant=request.tenant, user=request.user,
                                           choice=_customer_columns(),
                                           keys=self.saved.columns)
            messages.success(request, _("Columns of “%(name)s” in use.")
                             % {"name": self.saved.name})
        return redirect(_list_url(self.saved.query))


class FilterToGroupView(ReturnURLMixin, BackofficeMixin, View):
    """"Tạo nhóm từ bộ lọc": a group by conditions from a saved filter (``filter``: a
    built-in key or a saved filter's id) or from the list as it is (``query``)."""

    action = "group.manage"

    def post(self, request):
        tenant, actor = request.tenant, self.actor
        back = self.get_return_url(_list_url())
        name, query = self._source(request)
        if query is None:
            messages.error(request, _("This filter is not in this shop any more."))
            return redirect(back)
        try:
            group = services.group_from_filter(tenant=tenant, actor=actor, name=name,
                                               query=query)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(back)
        messages.success(request, _("Group “%(name)s” created from the filter; its members "
                                    "are being counted.") % {"name": group.name})
        return redirect("groups:group_detail", pk=group.pk)

    def _source(self, request) -> tuple[str, str | None]:
        """(group name, list query) of what was posted; query None: nothing of this shop."""
        key = request.POST.get("filter", "")
        if key.isdigit():
            saved = visible_saved_filters(request.tenant, self.actor).filter(pk=key).first()
            return (saved.name, saved.query) if saved else ("", None)
        if key:
            found = built_in_filter(request.tenant, key)
            return (str(found.label), found.query) if found else ("", None)
        name = request.POST.get("name", "").strip() or _("Group from a filter, %(when)s") % {
            "when": timezone.localtime().strftime("%d/%m/%Y %H:%M")}
        return name, request.POST.get("query", "")

