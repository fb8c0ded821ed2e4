from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView
from django_ratelimit.decorators import ratelimit

from crm import access, registry
from crm.forms import add_service_errors
from crm.generic import FILTER_PANEL, ReturnURLMixin, TenantListView, TenantObjectMixin
from crm.http import serve_private_file
from crm.models import Role, Tenant
from crm.tenancy import BackofficeMixin, TenantScopedMixin, tenant_get_object_or_404

from . import selectors, services
from .activity import customer_timeline
from .columns import CUSTOMER_COLUMNS
from .forms import (
    AssignForm,
    BulkActionForm,
    ContactForm,
    CustomerCreateForm,
    CustomerEditForm,
    NoteForm,
    RegistrationForm,
    lookup_form_class,
)
from .models import Customer, MembershipState, wards_of
from .services import LOOKUP_MODELS, MEMBERSHIP_TRANSITIONS
from .tabs import customer_totals


class CustomerScopedMixin(TenantScopedMixin):
    """Customers a member may see (collaborators only theirs), as the scoped queryset."""

    model = Customer
    action = "customer.view"

    def scope_queryset(self, queryset):
        return selectors.scope_customers(queryset, self.request.membership)


class CustomerListView(CustomerScopedMixin, TenantListView):
    template_name = "customers/customer_list.html"
    table_template = "customers/_customer_table.html"
    column_choice = CUSTOMER_COLUMNS
    columns_url = "customers:list_columns"
    lazy_count = True

    def get_filterset(self):
        get = self.request.GET
        # The list reads only the boxes its query fills; the filter panel shows them all.
        return selectors.customer_filter(get, queryset=self.get_queryset(), tenant=self.tenant,
                                         panel=get.get(FILTER_PANEL) == "filters")

    def search(self, queryset, query):
        return selectors.customer_search(queryset, self.tenant, query)

    def get_result(self, queryset, **page):
        return selectors.customer_list(queryset=queryset, columns=self.shown_columns, **page)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            bulk_form=BulkActionForm(tenant=self.tenant, actor=self.actor),
            can_bulk=access.can(self.actor, "customer.bulk_edit"), **kwargs)
        if self.template_name in self.get_template_names():  # the page, not the table's htmx
            # Strips other apps add above the list (groups: the saved filter chips).
            context["list_toolbars"] = registry.toolbar_blocks("customers", self.request, context)
        return context


class CustomerBulkActionView(ReturnURLMixin, CustomerScopedMixin, View):
    action = "customer.bulk_edit"

    def post(self, request):
        form = BulkActionForm(request.POST, tenant=request.tenant, actor=self.actor)
        back = self.get_return_url(reverse("customers:customer_list"))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        data = form.cleaned_data
        ids = list(self.get_queryset().filter(code__in=data["codes"]).values_list("pk", flat=True))
        common = {"tenant": request.tenant, "actor": self.actor, "customer_ids": ids}
        action = data["action"]
        if action == "assign_staff":
            changed = services.customers_assign_staff(**common, staff=data["staff"])
        elif action == "set_care_status":
            changed = services.customers_set_care_status(**common, status=data["care_status"])
        elif action == "add_tag":
            changed = services.customers_add_tag(**common, tag=data["tag"])
        elif action == "activate_membership":
            messages.success(request, activation_message(
                services.customers_activate_membership(**common), len(ids)))
            return redirect(back)
        else:
            changed = services.customers_remove_tag(**common, tag=data["tag"])
        messages.success(request, _("Updated %(n)d of %(total)d selected customers.")
                         % {"n": changed, "total": len(ids)})
        return redirect(back)


def activation_message(done: services.Activation, selected: int) -> str:
    """"Đã kích hoạt N / M khách hàng", and why the others were left as they were."""
    text = _("Activated %(n)d of %(total)d customers.") % {"n": done.activated,
                                                           "total": selected}
    skipped = []
    if done.already_active:
        skipped.append(ngettext("%(n)d already an active member",
                                "%(n)d already active members", done.already_active)
                       % {"n": done.already_active})
    if done.cancelled:
        skipped.append(ngettext("%(n)d cancelled member (bring them back on their profile)",
                                "%(n)d cancelled members (bring them back on their profile)",
                                done.cancelled) % {"n": done.cancelled})
    if skipped:
        text += " " + _("Skipped: %(list)s.") % {"list": "; ".join(skipped)}
    return text


class CustomerCreateView(BackofficeMixin, FormView):
    action = "customer.create"
    template_name = "customers/customer_form.html"
    form_class = CustomerCreateForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(tenant=self.request.tenant, actor=self.actor)
        return kwargs

    def get_initial(self):
        return {"assigned_staff": self.actor if self.actor.role != Role.COLLABORATOR else None}

    def form_valid(self, form):
        customer, failed = save_customer_form(self, form, services.customer_create,
                                              tenant=self.request.tenant, actor=self.actor)
        if failed:
            return failed
        messages.success(self.request, _("Customer %(code)s – %(name)s created.")
                         % {"code": customer.code, "name": customer.full_name})
        return redirect("customers:customer_detail", code=customer.code)


def save_customer_form(view, form, service, **kwargs):
    """Call the create/update service; on refusal put the errors on the form (a phone or
    email of another customer also links to them). Returns (customer, error response)."""
    try:
        return service(data=form.service_data(), **kwargs), None
    except services.ContactConflictError as conflict:
        form.add_error(conflict.field if conflict.field in form.fields else None,
                       conflict.messages[0])
        return None, view.render_to_response(view.get_context_data(form=form,
                                                                   conflict=conflict.customer))
    except ValidationError as error:
        add_service_errors(form, error)
        return None, view.form_invalid(form)



class WardOptionsView(BackofficeMixin, View):
    """<option>s of a province's wards for the dependent select (htmx)."""

    def get(self, request):
        code = request.GET.get("province_code", "")
        wards = wards_of(int(code)) if code.isdigit() else []
        return render(request, "customers/_ward_options.html", {"wards": wards})


# --- the shop's lists ---------------------------------------------------------------------

class LookupMixin(BackofficeMixin):
    action = "settings.lists"
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
            services.lookup_save(tenant=self.request.tenant, actor=self.actor,
                                 instance=self.instance,
                                 data={k: form.cleaned_data[k] for k in form.fields})
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved “%(name)s”.") % {"name": self.instance.name})
        return redirect(f"customers:lookup_list_{self.kind}")


class LookupMoveView(LookupMixin, View):
    def post(self, request, pk, direction):
        if direction not in ("up", "down"):
            raise Http404
        services.lookup_move(tenant=request.tenant, actor=self.actor,
                             instance=self.get_object(), up=direction == "up")
        return redirect(f"customers:lookup_list_{self.kind}")


# --- the profile ----------------------------------------------------------------------------

class CustomerProfileMixin(TenantObjectMixin, CustomerScopedMixin):
    """The customer of the URL's code (404 outside what the member may see; the code of a
    merged customer redirects to the survivor) and the overview card."""

    def find_object(self, queryset, code):
        found, survivor = selectors.customer_for_profile(queryset, code)
        if found is not None:
            # The scoped queryset already proved it: the customer's shop is the request's
            # (what the page's parts read of customer.tenant costs no query).
            found.tenant = self.request.tenant
        return found, survivor

    @property
    def customer(self):
        return self.object

    def overview_context(self, customer) -> dict:
        actor = self.actor
        return {
            "customer": customer,
            "totals": customer_totals(customer),
            "tabs": [(t, reverse(t.url_name, kwargs={"code": customer.code}))
                     for t in registry.profile_tabs if access.can(actor, t.action)
                     and (t.shown is None or t.shown(self.request.tenant))],
            "overview_blocks": registry.overview_blocks(customer, actor),
            "care_statuses": selectors.lookup_lists(self.request.tenant)["care_statuses"]
            .filter(is_active=True),
            "membership_actions": [
                (state, MembershipState(state).label)
                # The states' own order, cancelling last (the transitions are a set).
                for state in sorted(MEMBERSHIP_TRANSITIONS.get(customer.membership_state, ()),
                                    key=lambda s: (s == MembershipState.CANCELLED,
                                                   list(MembershipState).index(s)))
                if access.can(actor, services.membership_action(state))
            ],
            "assign_form": AssignForm(tenant=self.request.tenant, initial={
                "assigned_staff": customer.assigned_staff_id,
                "collaborator": customer.collaborator_id,
            }) if access.can(actor, "customer.assign") else None,
        }


class CustomerTabView(CustomerProfileMixin, TemplateView):
    """One tab of the profile: a fragment for htmx, the whole profile page otherwise."""

    tab_key = ""
    tab_template = ""

    def get(self, request, *args, **kwargs):
        customer = self.customer
        context = {"tab_key": self.tab_key, "tab_template": self.tab_template,
                   **self.tab_context(customer)}
        if request.htmx and not request.htmx.boosted:
            return render(request, self.tab_template, {"customer": customer, **context})
        return render(request, "customers/profile.html",
                      {**self.overview_context(customer), **context})

    def tab_context(self, customer) -> dict:
        return {}


class CustomerInfoTabView(CustomerTabView):
    tab_key = "info"
    tab_template = "customers/tabs/info.html"

    def tab_context(self, customer):
        return {"referrer_visible": customer.referrer_id is not None
                and selectors.can_see_customer(self.actor, customer.referrer)}


class CustomerActivityTabView(CustomerTabView):
    tab_key = "activity"
    tab_template = "customers/tabs/activity.html"

    def tab_context(self, customer):
        return {"activities": customer_timeline(customer, self.actor),
                "note_form": NoteForm()}

    def post(self, request, *args, **kwargs):
        customer = self.customer
        form = NoteForm(request.POST)
        if form.is_valid():
            services.note_add(tenant=request.tenant, actor=self.actor, customer=customer,
                              body=form.cleaned_data["body"])
            form = NoteForm()
        context = {"customer": customer, "note_form": form,
                   "activities": customer_timeline(customer, self.actor)}
        if request.htmx:
            return render(request, self.tab_template, context)
        messages.success(request, _("Note added."))
        return redirect("customers:customer_activity", code=customer.code)


class CustomerHistoryTabView(CustomerTabView):
    tab_key = "history"
    tab_template = "customers/tabs/history.html"

    def tab_context(self, customer):
        return {"history": selectors.customer_history(customer)}


class CustomerDetailView(CustomerInfoTabView):
    """/admin/customers/KH000123/ opens the profile on its first tab."""


class CustomerCareStatusView(CustomerProfileMixin, View):
    action = "customer.set_care_status"

    def post(self, request, code):
        customer = self.customer
        status = tenant_get_object_or_404(
            selectors.lookup_lists(request.tenant)["care_statuses"], pk=request.POST.get("status"))
        services.customer_set_care_status(tenant=request.tenant, actor=self.actor,
                                          customer=customer, status=status)
        return self.overview_response(customer.code)

    def overview_response(self, code):
        customer, _r = selectors.customer_for_profile(self.get_queryset(), code)
        if self.request.htmx:
            return render(self.request, "customers/_overview.html",
                          self.overview_context(customer))
        return redirect("customers:customer_detail", code=code)


class CustomerAssignView(CustomerCareStatusView):
    action = "customer.assign"

    def post(self, request, code):
        customer = self.customer
        form = AssignForm(request.POST, tenant=request.tenant)
        if not form.is_valid():
            messages.error(request, _("Choose staff and collaborator of this shop."))
        else:
            try:
                services.customer_assign(tenant=request.tenant, actor=self.actor,
                                         customer=customer,
                                         staff=form.cleaned_data["assigned_staff"],
                                         collaborator=form.cleaned_data["collaborator"])
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        return self.overview_response(customer.code)


class CustomerMembershipView(CustomerCareStatusView):
    action = "customer.set_membership"

    def post(self, request, code):
        customer = self.customer
        try:
            services.membership_transition(tenant=request.tenant, actor=self.actor,
                                           customer=customer,
                                           to_state=request.POST.get("to_state", ""))
            messages.success(request, _("Membership updated."))
        except (ValidationError, ValueError):
            messages.error(request, _("This membership change is not allowed."))
        return redirect("customers:customer_detail", code=customer.code)


class CustomerEditView(CustomerProfileMixin, FormView):
    action = "customer.edit"
    template_name = "customers/customer_form.html"
    form_class = CustomerEditForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(tenant=self.request.tenant, customer=self.customer, actor=self.actor)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, editing=True, **kwargs)

    def form_valid(self, form):
        _customer, failed = save_customer_form(self, form, services.customer_update,
                                               tenant=self.request.tenant,
                                               actor=self.actor, customer=self.customer)
        if failed:
            return failed
        messages.success(self.request, _("Saved %(code)s.") % {"code": self.customer.code})
        return redirect("customers:customer_detail", code=self.customer.code)


class CustomerLookupView(CustomerScopedMixin, View):
    """Suggestions for the referrer box: <option>s of the best matches."""

    def get(self, request):
        # The box is named referrer on the customer form and customer on the order form.
        query = next((request.GET[k] for k in ("referrer", "customer", "q")
                      if request.GET.get(k)), "")
        rows = []
        if len(query.strip()) >= 2:
            rows = list(selectors.customer_search(self.get_queryset(), request.tenant, query)
                        .order_by("search_name", "id")[:8])
        return render(request, "customers/_lookup_options.html", {"rows": rows})


# --- membership workflow ---------------------------------------------------------------------

class PendingMembersView(CustomerScopedMixin, TemplateView):
    """"Chờ duyệt": new registrations waiting for a manager, and registrations of existing
    customers with what they submitted next to what is stored."""

    action = "customer.approve_membership"
    template_name = "customers/pending_list.html"

    def get_context_data(self, **kwargs):
        queryset = self.get_queryset().filter(membership_state=MembershipState.PENDING)
        result = selectors.customer_list(queryset=queryset, sort="created",
                                         after=self.request.GET.get("after"),
                                         before=self.request.GET.get("before"), size=50)
        requests = selectors.open_registration_requests(self.tenant, self.actor)[:200]
        return super().get_context_data(result=result, requests=requests, **kwargs)

    def post(self, request):
        action = request.POST.get("action")
        target = {"approve": MembershipState.ACTIVE,
                  "cancel": MembershipState.CANCELLED}.get(action)
        codes = request.POST.getlist("codes")
        if target is None or not codes:
            messages.error(request, _("Select at least one customer and an action."))
            return redirect("customers:pending_list")
        ids = list(self.get_queryset().filter(code__in=codes).values_list("pk", flat=True))
        changed, refused = services.memberships_transition(
            tenant=request.tenant, actor=self.actor, customer_ids=ids, to_state=target)
        messages.success(request, _("Updated %(n)d of %(total)d selected customers.")
                         % {"n": changed, "total": len(codes)})
        for message in refused:
            messages.warning(request, message)
        return redirect("customers:pending_list")


class RegistrationRequestView(CustomerScopedMixin, View):
    """Approve (applying the values the manager ticked) or dismiss a registration that an
    existing customer's phone sent from the public page."""

    action = "customer.approve_membership"

    def post(self, request, pk):
        registration = tenant_get_object_or_404(
            selectors.open_registration_requests(self.tenant, self.actor), pk=pk)
        approve = request.POST.get("decision") == "approve"
        apply = request.POST.getlist("apply") if approve else []
        try:
            customer = services.registration_request_decide(
                tenant=request.tenant, actor=self.actor, request=registration, apply=apply,
                approve=approve)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, (_("%(code)s is now an active member.") if approve
                                       else _("Registration of %(code)s dismissed."))
                             % {"code": customer.code})
        return redirect("customers:pending_list")


class MemberFromContactView(BackofficeMixin, FormView):
    """"Tạo thành viên từ đơn hàng": create or link a member from an order's contact."""

    action = "customer.approve_membership"
    template_name = "customers/member_from_contact.html"
    form_class = ContactForm

    def form_valid(self, form):
        try:
            customer, created = services.member_from_contact(
                tenant=self.request.tenant, actor=self.actor, contact=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        message = (_("Created member %(code)s – %(name)s.") if created
                   else _("Linked to existing customer %(code)s – %(name)s, now an active "
                          "member."))
        messages.success(self.request, message % {"code": customer.code,
                                                  "name": customer.full_name})
        return redirect("customers:customer_detail", code=customer.code)


# --- duplicates and merge ----------------------------------------------------------------------

class DuplicatesView(CustomerScopedMixin, TemplateView):
    action = "customer.merge"
    template_name = "customers/duplicates.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(pairs=selectors.duplicate_pairs(self.get_queryset()),
                                        **kwargs)


class MergeView(CustomerScopedMixin, TemplateView):
    action = "customer.merge"
    template_name = "customers/merge.html"

    def pair(self):
        codes = [self.request.GET.get("a", ""), self.request.GET.get("b", "")]
        found = {c.code: c for c in selectors.customer_list_queryset(self.get_queryset())
                 .prefetch_related("phones", "emails")
                 .filter(code__in=[c.upper() for c in codes])}
        if len(found) != 2:
            raise Http404(_("Choose two customers of this shop."))
        return found[codes[0].upper()], found[codes[1].upper()]

    def get_context_data(self, **kwargs):
        a, b = self.pair()
        return super().get_context_data(a=a, b=b, rows=services.merge_rows(a, b), **kwargs)

    def post(self, request):
        a, b = self.pair()
        survivor, merged = (b, a) if request.POST.get("survivor") == b.code else (a, b)
        picks = {}  # row key (a field, or a group such as the birthday) -> side
        for key, _fields in services.merge_choice_keys():
            pick = request.POST.get(f"pick_{key}")  # "a" or "b"
            if pick in ("a", "b"):
                picks[key] = "survivor" if (a if pick == "a" else b) == survivor else "merged"
        choices = services.merge_choices(picks)
        try:
            survivor = services.customers_merge(tenant=request.tenant, actor=self.actor,
                                                survivor=survivor, merged=merged,
                                                choices=choices)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("customers:duplicates")
        messages.success(request, _("Merged %(merged)s into %(survivor)s.")
                         % {"merged": merged.code, "survivor": survivor.code})
        return redirect("customers:customer_detail", code=survivor.code)


# --- the shop's public registration page -------------------------------------------------------

@method_decorator(ratelimit(key="ip", rate="10/h", method="POST", block=False), name="post")
class RegistrationView(FormView):
    """/r/<shop>/: a customer registers; the manager approves in "Chờ duyệt"."""

    template_name = "customers/register.html"
    form_class = RegistrationForm

    def dispatch(self, request, *args, **kwargs):
        self.shop = tenant_get_object_or_404(Tenant.objects.filter(is_active=True),
                                             slug=kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(shop=self.shop, **kwargs)

    def post(self, request, *args, **kwargs):
        if getattr(request, "limited", False):
            form = self.get_form()
            form.add_error(None, _("Too many registrations from this address. Please try "
                                   "again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if not form.is_spam():
            services.registration_submit(tenant=self.shop, actor=access.REGISTRATION,
                                         data=form.service_data())
        # Bots that filled the honeypot see the same thank-you page and learn nothing.
        return render(self.request, "customers/register_done.html", {"shop": self.shop})


class CustomerAvatarView(CustomerProfileMixin, View):
    """The avatar file, to members of the shop who may see the customer only (the media
    folder is never served as-is, in DEBUG or production)."""

    def get(self, request, code):
        customer = self.customer
        if not customer.avatar:
            raise Http404(_("This customer has no avatar."))
        return serve_private_file(customer.avatar)
