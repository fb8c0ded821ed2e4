from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from crm import access
from crm import services as crm_services
from crm.forms import ApiKeyForm
from crm.generic import TenantListView
from crm.http import safe_next
from crm.models import ApiKey
from crm.tenancy import BackofficeMixin, TenantScopedMixin, tenant_get_object_or_404
from customers.selectors import customers_visible_to
from customers.views import CustomerTabView

from . import selectors, services
from .columns import ORDER_COLUMNS
from .filters import OrderFilterSet
from .forms import OrderForm, OrderLineFormSet, PaymentForm, RefundForm, ReturnForm
from .models import Order, OrderStatus


class OrderScopedMixin(TenantScopedMixin):
    """Orders of the shop that go with the customers the member may see."""

    model = Order
    action = "order.view"

    def scope_queryset(self, queryset):
        return selectors.scope_orders(queryset, self.actor)


class OrderListView(OrderScopedMixin, TenantListView):
    template_name = "orders/order_list.html"
    filterset_class = OrderFilterSet

    def search(self, queryset, query):
        return selectors.order_search(queryset, query, tenant=self.request.tenant)

    def get_result(self, queryset, **page):
        return selectors.order_list(queryset=queryset, **page)

    def get_columns(self):
        return ORDER_COLUMNS


class OrderCreateView(BackofficeMixin, TemplateView):
    action = "order.create"
    template_name = "orders/order_form.html"

    def get(self, request):
        initial = {}
        if code := request.GET.get("customer"):
            initial["customer"] = code
        return self.render_to_response(self.get_context_data(
            form=OrderForm(tenant=request.tenant, actor=self.actor, initial=initial),
            lines=OrderLineFormSet(prefix="lines")))

    def post(self, request):
        form = OrderForm(request.POST, tenant=request.tenant, actor=self.actor)
        lines = OrderLineFormSet(request.POST, prefix="lines")
        form_ok, lines_ok = form.is_valid(), lines.is_valid()  # both, to show every error
        if form_ok and lines_ok:
            rows = [f.cleaned_data for f in lines.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            try:
                order = services.order_create(tenant=request.tenant, actor=self.actor,
                                              data=form.service_data(), lines=rows,
                                              customer=form.cleaned_data.get("customer"))
            except ValidationError as error:
                _errors_on_fields(form, error)
            else:
                messages.success(request, _("Order %(code)s recorded.") % {"code": order.code})
                return redirect("orders:order_detail", code=order.code)
        return self.render_to_response(self.get_context_data(form=form, lines=lines))


def _errors_on_fields(form, error: ValidationError) -> None:
    """The service's refusal next to the box it is about (the points over the customer's
    balance under "Dùng điểm"); what no box of the form holds goes above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None,
                       [m for e in errors for m in e.messages])


class OrderDetailView(OrderScopedMixin, TemplateView):
    template_name = "orders/order_detail.html"

    def get_order(self):
        return tenant_get_object_or_404(
            self.get_queryset().select_related("customer", "channel__parent", "created_by")
            .prefetch_related("lines", "payments", "returns"),
            code=self.kwargs["code"].upper())

    def get_context_data(self, **kwargs):
        order = self.get_order()
        lines = order.lines.all()  # prefetched: no query
        return super().get_context_data(
            order=order,
            # What the products come to before the discount, the points and the shipping:
            # the totals then explain themselves (none when a channel sent the total only).
            lines_total=sum(line.amount for line in lines) if lines else None,
            # In the order of the statuses, cancelling last (a set has no order of its own).
            next_statuses=[(s, OrderStatus(s).label)
                           for s in sorted(services.STATUS_TRANSITIONS.get(order.status, ()),
                                           key=lambda s: (s == OrderStatus.CANCELLED,
                                                          list(OrderStatus).index(s)))
                           if access.can(self.actor, services.status_action(order.status, s))],
            payment_form=kwargs.pop("payment_form", PaymentForm()),
            refund_form=kwargs.pop("refund_form",
                                   RefundForm(initial={"amount": order.refund_due})),
            return_form=kwargs.pop("return_form", ReturnForm()), **kwargs)


# Actions that post an amount: action -> (form, service, context name of the form, message).
# Each form's fields are its service's keyword arguments.
AMOUNT_ACTIONS = {
    "payment": (PaymentForm, "order_record_payment", "payment_form",
                gettext_lazy("Payment recorded.")),
    "refund": (RefundForm, "order_refund", "refund_form", gettext_lazy("Refund recorded.")),
    "return": (ReturnForm, "order_return", "return_form", gettext_lazy("Return recorded.")),
}


class OrderActionView(OrderDetailView):
    """POST status / payment / return / link on an order, through its service."""

    def post(self, request, code, action):
        order = self.get_order()
        actor, tenant = self.actor, request.tenant
        try:
            if action == "status":
                services.order_set_status(tenant=tenant, actor=actor, order=order,
                                          status=request.POST.get("status", ""))
                messages.success(request, _("Status updated."))
            elif action in AMOUNT_ACTIONS:
                form_class, service, context_name, done = AMOUNT_ACTIONS[action]
                form = form_class(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(**{context_name: form}))
                getattr(services, service)(tenant=tenant, actor=actor, order=order,
                                           **form.cleaned_data)
                messages.success(request, done)
            elif action == "link":
                customer = tenant_get_object_or_404(customers_visible_to(actor),
                                                    code=request.POST.get("customer", "").upper())
                services.order_link_customer(tenant=tenant, actor=actor, order=order,
                                             customer=customer)
                messages.success(request, _("Order %(order)s linked to %(customer)s.") % {
                    "order": order.code, "customer": customer.code})
                back = safe_next(request, request.POST.get("next"), "")
                if back:
                    return redirect(back)
            else:
                return redirect("orders:order_detail", code=order.code)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("orders:order_detail", code=order.code)


# --- profile tabs --------------------------------------------------------------------------

class CustomerOrdersTab(CustomerTabView):
    action = "order.view"
    tab_key = "orders"
    tab_template = "orders/tabs/orders.html"

    def tab_context(self, customer):
        return {"orders": selectors.customer_orders(customer)[:100],
                "summary": selectors.customer_order_summary(customer, breakdown=True)}


class CustomerRelatedTab(CustomerTabView):
    action = "order.view"
    tab_key = "related"
    tab_template = "orders/tabs/related.html"

    def tab_context(self, customer):
        return {"orders": selectors.related_orders(customer, self.actor)[:100]}


class CustomerReturnsTab(CustomerTabView):
    action = "order.view"
    tab_key = "returns"
    tab_template = "orders/tabs/returns.html"

    def tab_context(self, customer):
        returns = list(selectors.customer_returns(customer)[:100])
        return {"returns": returns, "returned_total": sum(r.amount for r in returns)}


class CustomerDebtTab(CustomerTabView):
    action = "order.view"
    tab_key = "debt"
    tab_template = "orders/tabs/debt.html"

    def tab_context(self, customer):
        orders, owed = selectors.customer_debts(customer)
        return {"orders": orders, "owed": owed,
                "summary": selectors.customer_order_summary(customer, breakdown=True),
                "refund_orders": selectors.customer_refunds_due(customer)[:50],
                "payments": selectors.customer_payments(customer)[:50]}


# --- settings: recompute and API keys -------------------------------------------------------

class RecomputeView(BackofficeMixin, TemplateView):
    """Recompute the shop's order figures now, with a progress bar (Celery + cache)."""

    action = "stats.recompute"
    template_name = "orders/recompute.html"

    def get_template_names(self):
        if self.request.htmx and self.request.GET.get("job"):
            return ["orders/_recompute_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        job = self.request.GET.get("job", "")
        progress = services.recompute_progress(self.request.tenant, job) if job else None
        return super().get_context_data(job=job, progress=progress, **kwargs)

    def post(self, request):
        job = services.aggregates_recompute_request(tenant=request.tenant, actor=self.actor)
        return redirect(f"{reverse('orders:recompute')}?job={job}")


class ApiKeysView(BackofficeMixin, FormView):
    action = "api_keys.manage"
    template_name = "orders/api_keys.html"
    form_class = ApiKeyForm

    def get_context_data(self, **kwargs):
        keys = ApiKey.objects.for_tenant(self.request.tenant).order_by("-created_at")
        return super().get_context_data(keys=keys, **kwargs)

    def form_valid(self, form):
        key, secret = crm_services.api_key_create(tenant=self.request.tenant,
                                                  actor=self.actor,
                                                  name=form.cleaned_data["name"])
        return self.render_to_response(self.get_context_data(form=ApiKeyForm(), new_key=secret,
                                                             new_key_name=key.name))


class ApiKeyRevokeView(TenantScopedMixin, View):
    action = "api_keys.manage"
    model = ApiKey

    def post(self, request, pk):
        key = tenant_get_object_or_404(self.get_queryset(), pk=pk)
        crm_services.api_key_revoke(tenant=request.tenant, actor=self.actor, key=key)
        messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
        return redirect("orders:api_keys")

