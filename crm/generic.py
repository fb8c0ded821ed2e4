"""Generic backoffice views: the shape every app's screens copy (after NetBox's
``netbox/views/generic``). A list is a filterset, a search box, a keyset page, a capped count
and, where the app offers it, the user's column choice; an object page is the object of the
URL's code in the shop (another shop's code is a 404, a merged code redirects). Access,
tenancy and scoping come from ``crm.tenancy``; the templates are ``includes/table.html``
and ``includes/pager.html``.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from . import services
from .http import safe_next
from .pagination import ListResult, capped_count
from .tenancy import BackofficeMixin, TenantScopedMixin, tenant_get_object_or_404

# Parameters that move through pages or re-sort; never "filters".
PAGING_PARAMS = ("q", "sort", "after", "before", "size")
# ?_panel=filters (htmx): only the filter fields, for a panel that opens closed;
# ?_panel=count: only the result count, for a list that shows its rows first.
FILTER_PANEL = "_panel"


class ReturnURLMixin:
    """Where to go after a form or an action: ``next`` (POST or GET) when it is a page of
    this site, else ``default_return_url``."""

    default_return_url = ""

    def get_return_url(self, default: str | None = None) -> str:
        wanted = self.request.POST.get("next") or self.request.GET.get("next")
        return safe_next(self.request, wanted, default or self.default_return_url)


class TenantListView(TenantScopedMixin, TemplateView):
    """A list of the shop's rows: ``filterset_class`` (django-filter, scoped to the shop),
    ``search`` (the box), ``get_result`` (a selector that returns a ``ListResult``), and
    for htmx requests only the ``table_template`` fragment."""

    filterset_class = None
    table_template = ""
    column_choice = None  # crm.tables.ColumnChoice: the user picks the columns
    # The capped count of matches comes by its own request after the rows: with a filter
    # that needs a join it can cost more than the page itself (get_result gets count=False).
    lazy_count = False
    count_template = "includes/result_count.html"
    columns = ()  # fixed columns otherwise
    columns_url = ""  # URL name of the list's ListColumnsView
    page_sizes = (25, 50, 100)
    default_page_size = 50

    def get_template_names(self):
        if self.table_template and self.request.htmx and not self.request.htmx.boosted:
            return [self.table_template]
        return super().get_template_names()

    def get(self, request, *args, **kwargs):
        panel = request.GET.get(FILTER_PANEL) if request.htmx else None
        if panel == "filters":
            return render(request, "includes/filter_fields.html",
                          {"filter": self.get_filterset()})
        if panel == "count" and self.lazy_count:
            matches = self.search(self.get_filterset().qs, request.GET.get("q", "").strip())
            count, more = capped_count(matches)
            return render(request, self.count_template, {"count": count, "more": more})
        return super().get(request, *args, **kwargs)

    def get_filterset(self):
        return self.filterset_class(self.request.GET or None, queryset=self.get_queryset(),
                                    tenant=self.tenant)

    def search(self, queryset, query: str):
        return queryset

    def get_result(self, queryset, *, sort: str, after, before, size: int,
                   count: bool = True) -> ListResult:
        """One page of ``queryset`` (a selector's call); ``count`` is False when the view
        fetches the count by its own request (``lazy_count``)."""
        raise NotImplementedError

    def get_columns(self) -> list:
        if self.column_choice is not None:
            return self.column_choice.chosen(self.tenant, self.request.user)
        return list(self.columns)

    def page_size(self) -> int:
        wanted = self.request.GET.get("size", "")
        return int(wanted) if wanted in map(str, self.page_sizes) else self.default_page_size

    def get_context_data(self, **kwargs):
        get = self.request.GET
        filterset = self.get_filterset()
        query = get.get("q", "").strip()
        size = self.page_size()
        self.shown_columns = self.get_columns()
        page = {"sort": get.get("sort", ""), "after": get.get("after"),
                "before": get.get("before"), "size": size}
        if self.lazy_count:
            page["count"] = False
        result = self.get_result(self.search(filterset.qs, query), **page)
        params = get.copy()
        for key in ("after", "before", FILTER_PANEL):
            params.pop(key, None)
        panel, count_params = params.copy(), params.copy()
        panel[FILTER_PANEL] = "filters"
        count_params[FILTER_PANEL] = "count"
        sort_params = params.copy()
        sort_params.pop("sort", None)
        return super().get_context_data(
            filter=filterset, result=result, columns=self.shown_columns, query=query,
            base_query=params.urlencode(), sort_query=sort_params.urlencode(),
            filters_active=any(v for k, v in get.items() if k not in PAGING_PARAMS
                               and k in filterset.form.fields),
            page_sizes=self.page_sizes, size=size,
            all_columns=self.column_choice.available() if self.column_choice else [],
            columns_url=self.columns_url, filter_panel_query=panel.urlencode(),
            count_query=count_params.urlencode(), **kwargs)


class TenantObjectMixin(TenantScopedMixin):
    """The object of the URL's ``code`` among the view's scoped queryset, as
    ``self.object``, loaded once after the access checks. A code the shop does not have (or
    the member may not see) is a 404; ``find_object`` may instead name the code to
    redirect to (a merged customer's code opens the survivor)."""

    code_kwarg = "code"

    def find_object(self, queryset, code: str):
        """(object, None) or (None, code to redirect to)."""
        return tenant_get_object_or_404(queryset, code=code.upper()), None

    def prepare(self, request, *args, **kwargs):
        self.object, moved_to = self.find_object(self.get_queryset(), kwargs[self.code_kwarg])
        if moved_to:
            target = redirect(request.resolver_match.view_name,
                              **{**kwargs, self.code_kwarg: moved_to})
            if request.GET:
                target["Location"] += "?" + request.GET.urlencode()
            return target
        return None


class TenantObjectView(TenantObjectMixin, TemplateView):
    context_object_name = "object"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{self.context_object_name: self.object}, **kwargs)


class ListColumnsView(ReturnURLMixin, BackofficeMixin, View):
    """POST the columns a user shows in one list (``column_choice``), in their order."""

    column_choice = None
    list_url = ""  # URL name of the list, where the form returns by default

    def post(self, request):
        known = self.column_choice.by_key()
        wanted = request.POST.getlist("columns")
        if any(key not in known for key in wanted):
            messages.error(request, _("Unknown column."))
        else:
            services.list_columns_save(tenant=request.tenant, user=request.user,
                                       choice=self.column_choice, keys=wanted)
            messages.success(request, _("Columns saved."))
        return redirect(self.get_return_url(reverse(self.list_url)))
