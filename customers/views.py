from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from crm.models import Role
from crm.tenancy import BackofficeMixin, TenantScopedMixin, tenant_get_object_or_404

from . import selectors, services
from .columns import COLUMNS
from .filters import CustomerFilterSet
from .forms import BulkActionForm, ColumnsForm, CustomerCreateForm, lookup_form_class
from .models import Customer, wards_of
from .services import LOOKUP_MODELS

PAGE_SIZES = (25, 50, 100)


class CustomerScopedMixin(TenantScopedMixin):
    """Customers a member may see (collaborators only theirs), as the scoped queryset."""

    model = Customer

    def scope_queryset(self, queryset):
        return selectors.scope_customers(queryset, self.request.membership)


class CustomerListView(CustomerScopedMixin, TemplateView):
    template_name = "customers/customer_list.html"

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["customers/_customer_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        request, tenant = self.request, self.request.tenant
        filterset = CustomerFilterSet(request.GET or None, queryset=self.get_queryset(),
                                      tenant=tenant)
        queryset = selectors.customer_search(filterset.qs, tenant, request.GET.get("q", ""))
        size = int(request.GET["size"]) if request.GET.get("size") in map(str, PAGE_SIZES) \
            else 50
        result = selectors.customer_list(queryset=queryset, sort=request.GET.get("sort", ""),
                                         after=request.GET.get("after"),
                                         before=request.GET.get("before"), size=size)
        params = request.GET.copy()
        for key in ("after", "before"):
            params.pop(key, None)
        ctx.update(
            filter=filterset,
            result=result,
            columns=selectors.list_columns(tenant, request.user),
            all_columns=COLUMNS,
            query=request.GET.get("q", ""),
            base_query=params.urlencode(),
            sort_query=_without(params, "sort"),
            filters_active=any(v for k, v in request.GET.items()
                               if k not in ("q", "sort", "after", "before", "size", "tags_mode")),
            bulk_form=BulkActionForm(tenant=tenant),
            can_bulk=request.membership.has_role(Role.STAFF),
            page_sizes=PAGE_SIZES,
            size=size,
        )
        return ctx


def _without(params, key):
    copy = params.copy()
    copy.pop(key, None)
    return copy.urlencode()


class CustomerBulkActionView(CustomerScopedMixin, View):
    required_role = Role.STAFF

    def post(self, request):
        form = BulkActionForm(request.POST, tenant=request.tenant)
        back = request.POST.get("back") or reverse("customers:customer_list")
        if not back.startswith("/admin/customers/"):
            back = reverse("customers:customer_list")
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        data = form.cleaned_data
        ids = list(self.get_queryset().filter(code__in=data["codes"]).values_list("pk", flat=True))
        common = {"tenant": request.tenant, "actor": request.user, "customer_ids": ids}
        action = data["action"]
        if action == "assign_staff":
            changed = services.customers_assign_staff(**common, staff=data["staff"])
        elif action == "set_care_status":
            changed = services.customers_set_care_status(**common, status=data["care_status"])
        elif action == "add_tag":
            changed = services.customers_add_tag(**common, tag=data["tag"])
        else:
            changed = services.customers_remove_tag(**common, tag=data["tag"])
        messages.success(request, _("Updated %(n)d of %(total)d selected customers.")
                         % {"n": changed, "total": len(ids)})
        return redirect(back)


class ListColumnsView(BackofficeMixin, View):
    def post(self, request):
        form = ColumnsForm(request.POST)
        if form.is_valid():
            services.list_columns_save(tenant=request.tenant, user=request.user,
                                       keys=form.ordered_columns())
            messages.success(request, _("Columns saved."))
        else:
            messages.error(request, _("Unknown column."))
        return redirect(request.POST.get("back") or reverse("customers:customer_list"))


class CustomerCreateView(BackofficeMixin, FormView):
    required_role = Role.STAFF
    template_name = "customers/customer_form.html"
    form_class = CustomerCreateForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["tenant"] = self.request.tenant
        return kwargs

    def get_initial(self):
        return {"assigned_staff": self.request.membership
                if self.request.membership.role != Role.COLLABORATOR else None}

    def form_valid(self, form):
        try:
            customer = services.customer_create(tenant=self.request.tenant,
                                                actor=self.request.user,
                                                data=form.service_data())
        except services.ContactConflictError as conflict:
            form.add_error(conflict.field if conflict.field in form.fields else None,
                           conflict.messages[0])
            return self.render_to_response(self.get_context_data(form=form,
                                                                 conflict=conflict.customer))
        except ValidationError as error:
            _add_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Customer %(code)s – %(name)s created.")
                         % {"code": customer.code, "name": customer.full_name})
        return redirect("customers:customer_detail", code=customer.code)


def _add_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class CustomerDetailView(CustomerScopedMixin, TemplateView):
    template_name = "customers/customer_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        queryset = selectors.customer_list_queryset(self.get_queryset()).prefetch_related(
            "phones", "emails")
        ctx["customer"] = tenant_get_object_or_404(queryset, code=self.kwargs["code"].upper())
        return ctx


class WardOptionsView(BackofficeMixin, View):
    """<option>s of a province's wards for the dependent select (htmx)."""

    def get(self, request):
        code = request.GET.get("province_code", "")
        wards = wards_of(int(code)) if code.isdigit() else []
        return render(request, "customers/_ward_options.html", {"wards": wards})


# --- the shop's lists ---------------------------------------------------------------------

class LookupMixin(BackofficeMixin):
    required_role = Role.MANAGER
    kind: str = ""

    def dispatch(self, request, *args, **kwargs):
        self.model = LOOKUP_MODELS[self.kind]
        return super().dispatch(request, *args, **kwargs)

    def scoped(self):
        return self.model.objects.for_tenant(self.request.tenant)

    def get_object(self):
        return tenant_get_object_or_404(self.scoped(), pk=self.kwargs["pk"])

    def lookup_context(self):
        return {"kind": self.kind, "verbose_name": self.model._meta.verbose_name,
                "verbose_name_plural": self.model._meta.verbose_name_plural}


class LookupListView(LookupMixin, TemplateView):
    template_name = "customers/lookup_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs, **self.lookup_context())
        rows = self.scoped()
        if self.kind == "source":
            rows = rows.select_related("parent").order_by("parent__position", "parent_id",
                                                          "position", "id")
            # Groups first, each followed by its channels.
            rows = sorted(rows, key=lambda s: ((s.parent.position, s.parent_id, 1, s.position)
                                               if s.parent_id else (s.position, s.pk, 0, 0)))
        elif self.kind == "tag":
            rows = rows.select_related("group").order_by("group__position", "group_id",
                                                         "position")
        ctx["rows"] = rows
        return ctx


class LookupEditView(LookupMixin, FormView):
    template_name = "customers/lookup_form.html"

    def get_instance(self):
        return self.get_object() if "pk" in self.kwargs else self.model()

    def get_form_class(self):
        return lookup_form_class(self.model)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        self.instance = self.get_instance()
        kwargs.update(tenant=self.request.tenant, instance=self.instance)
        return kwargs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs, **self.lookup_context())
        ctx["usage"] = services.lookup_usage(self.instance) if self.instance.pk else None
        return ctx

    def form_valid(self, form):
        try:
            services.lookup_save(tenant=self.request.tenant, actor=self.request.user,
                                 instance=self.instance,
                                 data={k: form.cleaned_data[k] for k in form.fields})
        except ValidationError as error:
            _add_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved “%(name)s”.") % {"name": self.instance.name})
        return redirect(f"customers:lookup_list_{self.kind}")


class LookupMoveView(LookupMixin, View):
    def post(self, request, pk, direction):
        if direction not in ("up", "down"):
            raise Http404
        services.lookup_move(tenant=request.tenant, actor=request.user,
                             instance=self.get_object(), up=direction == "up")
        return redirect(f"customers:lookup_list_{self.kind}")
