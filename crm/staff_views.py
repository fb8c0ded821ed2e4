"""Nhân sự: the shop's people, their roles, and how they sign in.

Managers see the list (``staff.view``); only owners change it (``staff.manage``), and the
services ask the access table again before each write. A person is never deleted: they are
deactivated, and their customers, notes and history stay.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from . import access, selectors, services
from .forms import StaffAddForm, StaffPasswordForm, StaffUpdateForm, add_service_errors
from .models import AuditLog, Membership, Role
from .services import PasswordMethod
from .tenancy import BackofficeMixin, tenant_get_object_or_404

# The staff audit rows in words, for the person's history on their page.
STAFF_EVENTS = {
    "staff.add": gettext_lazy("Added to the shop"),
    "membership.create": gettext_lazy("Added to the shop"),
    "staff.update": gettext_lazy("Role or phone changed"),
    "staff.deactivate": gettext_lazy("Deactivated"),
    "staff.reactivate": gettext_lazy("Reactivated"),
    "staff.password_link": gettext_lazy("Set-password link emailed"),
    "staff.password_temporary": gettext_lazy("Temporary password created"),
    "staff.unlock": gettext_lazy("Sign-in unlocked"),
    "account.name": gettext_lazy("Changed their name"),
    "account.password": gettext_lazy("Changed their password"),
}



def _role_label(code) -> str:
    return str(Role(code).label) if code in Role.values else str(code or "")


def _history_detail(row) -> str:
    """The changed values of a staff audit row, in words ("Nhân viên → Quản lý")."""
    parts = []
    if "role" in row.after:
        before = _role_label(row.before.get("role"))
        parts.append(f"{before} → {_role_label(row.after['role'])}" if before
                     else _role_label(row.after["role"]))
    if row.after.get("phone") or row.before.get("phone"):
        parts.append(f"{row.before.get('phone') or '—'} → {row.after.get('phone') or '—'}"
                     if row.action == "staff.update" else row.after["phone"])
    return "; ".join(parts)


def _site_url(request) -> str:
    return request.build_absolute_uri("/")


def _password_shown(request, membership, password, *, created: bool):
    """The one page that shows a temporary password: never stored, never cached."""
    response = TemplateResponse(request, "crm/staff_password.html", {
        "member": membership, "password": password, "created": created,
    })
    add_never_cache_headers(response)
    return response


class StaffListView(BackofficeMixin, TemplateView):
    action = "staff.view"
    template_name = "crm/staff_list.html"

    def get_context_data(self, **kwargs):
        members = selectors.staff_list(tenant=self.tenant)
        locked = selectors.staff_locked_usernames(m.user.get_username() for m in members)
        for member in members:
            member.locked = member.user.get_username() in locked
        return super().get_context_data(
            members=members, roles=access.roles_table(self.tenant),
            role_columns=[Role(r).label for r in access.ROLE_COLUMNS], **kwargs)


class StaffAddView(BackofficeMixin, FormView):
    action = "staff.manage"
    template_name = "crm/staff_add.html"
    form_class = StaffAddForm

    def form_valid(self, form):
        try:
            added = services.staff_add(tenant=self.tenant, actor=self.actor,
                                       site_url=_site_url(self.request), **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        member = added.membership
        if added.temporary_password:
            return _password_shown(self.request, member, added.temporary_password,
                                   created=True)
        if not added.created_user:
            messages.success(self.request, _(
                "%(name)s already had an account: they now also work in this shop, as "
                "%(role)s, and sign in with their usual password.")
                % {"name": member.display_name, "role": member.get_role_display()})
        else:
            messages.success(self.request, _(
                "%(name)s added. A link to set their password was sent to %(email)s.")
                % {"name": member.display_name, "email": member.user.email})
        return redirect("crm:staff_list")


class StaffMemberMixin(BackofficeMixin):
    def get_member(self, pk) -> Membership:
        return tenant_get_object_or_404(
            Membership.objects.filter(tenant=self.tenant).select_related("user"), pk=pk)

    def member_page(self, member, status=200, **extra):
        """The person's page; POST views render it again with their bound form on error."""
        locked = selectors.staff_locked_usernames([member.user.get_username()])
        history = (AuditLog.objects.for_tenant(self.tenant)
                   .filter(object_type="crm.membership", object_id=member.pk)
                   .select_related("actor").order_by("-created_at")[:20])
        user = member.user
        context = {
            "member": member,
            "update_form": StaffUpdateForm(instance=member),
            "locked": user.get_username() in locked,
            "is_self": user == self.request.user,
            # A temporary password would open the person's other shops too (see services).
            "temporary_allowed": not (user.is_staff or user.is_superuser or Membership.objects
                                      .filter(user=user).exclude(tenant=self.tenant).exists()),
            "history": [(row, STAFF_EVENTS.get(row.action, row.action), _history_detail(row))
                        for row in history],
            "link_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            **extra,
        }
        return TemplateResponse(self.request, "crm/staff_member.html", context, status=status)


class StaffMemberView(StaffMemberMixin, View):
    action = "staff.view"

    def get(self, request, pk):
        return self.member_page(self.get_member(pk))


class StaffUpdateView(StaffMemberMixin, View):
    action = "staff.manage"

    def post(self, request, pk):
        member = self.get_member(pk)
        # The form works on its own copy: a refused change must not show on the page.
        form = StaffUpdateForm(request.POST, instance=self.get_member(pk))
        if form.is_valid():
            try:
                services.staff_update(tenant=self.tenant, actor=self.actor, membership=member,
                                      role=form.cleaned_data["role"],
                                      phone=form.cleaned_data["phone"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("crm:staff_member", pk=member.pk)
        return self.member_page(member, update_form=form)


class StaffActiveView(StaffMemberMixin, View):
    action = "staff.manage"

    def post(self, request, pk):
        member = self.get_member(pk)
        active = request.POST.get("active") == "1"
        try:
            services.staff_set_active(tenant=self.tenant, actor=self.actor, membership=member,
                                      is_active=active)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, (
                _("%(name)s can work in this shop again.") if active else
                _("%(name)s is deactivated: they can no longer open this shop. Their customers "
                  "and history stay.")) % {"name": member.display_name})
        return redirect("crm:staff_member", pk=member.pk)


class StaffPasswordView(StaffMemberMixin, View):
    action = "staff.manage"

    def post(self, request, pk):
        member = self.get_member(pk)
        form = StaffPasswordForm(request.POST)
        if not form.is_valid():
            return redirect("crm:staff_member", pk=member.pk)
        method = form.cleaned_data["method"]
        try:
            password = services.staff_reset_password(
                tenant=self.tenant, actor=self.actor, membership=member, method=method,
                site_url=_site_url(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("crm:staff_member", pk=member.pk)
        if method == PasswordMethod.TEMPORARY:
            return _password_shown(request, member, password, created=False)
        messages.success(request, _("A link to set a new password was sent to %(email)s.")
                         % {"email": member.user.email})
        return redirect("crm:staff_member", pk=member.pk)


class StaffUnlockView(StaffMemberMixin, View):
    action = "staff.manage"

    def post(self, request, pk):
        member = self.get_member(pk)
        services.staff_unlock(tenant=self.tenant, actor=self.actor, membership=member)
        messages.success(request, _("%(name)s can sign in again.")
                         % {"name": member.display_name})
        return redirect("crm:staff_member", pk=member.pk)
