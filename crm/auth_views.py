"""Signing in and passwords: the lock-out page, forgotten passwords, and "My account".

Django's auth views do the work; these subclasses add the shop's templates, a rate limit on
the reset form, and clearing a lock-out once a person proves they own the mailbox.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from django_ratelimit.decorators import ratelimit

from . import services
from .forms import AccountNameForm, AccountPasswordForm, LoginForm, ShopPasswordResetForm
from .tenancy import BackofficeMixin


def lockout_response(request, response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: the login page again, with why and for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "form": LoginForm(request, initial={"username": (credentials or {}).get("username")
                                            or request.POST.get("username", "")}),
        "next": request.POST.get("next", request.GET.get("next", "")),
        "locked_out": _("Too many failed sign-in attempts: this account is locked on this "
                        "device for %(minutes)s minutes. Try again later, ask the shop owner "
                        "to unlock it, or reset your password.") % {"minutes": minutes},
    }
    return render(request, "crm/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


# At most 5 reset emails an hour from one address: the form answers the same either way.
@method_decorator(ratelimit(key="ip", rate="5/h", method="POST", block=False), name="post")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = ShopPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        if getattr(self.request, "limited", False):
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        from axes.utils import reset

        response = super().form_valid(form)
        # The person proved they read the account's mailbox: a lock-out no longer protects it.
        reset(username=form.user.get_username())
        return response


class AccountView(BackofficeMixin, TemplateView):
    """Each person's own name and password (any role)."""

    template_name = "crm/account.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("name_form", AccountNameForm(instance=self.request.user))
        kwargs.setdefault("password_form", AccountPasswordForm(self.request.user))
        return super().get_context_data(**kwargs)

    def post(self, request):
        # The form works on a copy: the top bar must not show a refused name.
        form = AccountNameForm(request.POST,
                               instance=get_user_model().objects.get(pk=request.user.pk))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(name_form=form))
        services.account_update_name(tenant=self.tenant, actor=self.actor,
                                     first_name=form.cleaned_data["first_name"],
                                     last_name=form.cleaned_data["last_name"])
        messages.success(request, _("Your name is saved."))
        return redirect("crm:account")


class AccountPasswordView(AccountView, View):
    def post(self, request):
        form = AccountPasswordForm(request.user, request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(password_form=form))
        user = services.account_set_password(tenant=self.tenant, actor=self.actor,
                                             password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)  # stay signed in here, signed out elsewhere
        messages.success(request, _("Your password is changed."))
        return redirect("crm:account")


password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="registration/password_reset_done.html")
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html")
