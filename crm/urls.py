from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import auth_views as account_views
from . import staff_views, views
from .forms import LoginForm

backoffice = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("switch-shop/", views.switch_tenant_view, name="switch_tenant"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("staff/", staff_views.StaffListView.as_view(), name="staff_list"),
    path("staff/add/", staff_views.StaffAddView.as_view(), name="staff_add"),
    path("staff/<int:pk>/", staff_views.StaffMemberView.as_view(), name="staff_member"),
    path("staff/<int:pk>/edit/", staff_views.StaffUpdateView.as_view(), name="staff_update"),
    path("staff/<int:pk>/active/", staff_views.StaffActiveView.as_view(), name="staff_active"),
    path("staff/<int:pk>/password/", staff_views.StaffPasswordView.as_view(),
         name="staff_password"),
    path("staff/<int:pk>/unlock/", staff_views.StaffUnlockView.as_view(), name="staff_unlock"),
    path("account/", account_views.AccountView.as_view(), name="account"),
    path("account/password/", account_views.AccountPasswordView.as_view(),
         name="account_password"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # Container healthcheck (docker/healthcheck.py); outside /admin/, no database.
    path("healthz", views.healthz, name="healthz"),
    path(
        "admin/login/",
        auth_views.LoginView.as_view(template_name="crm/login.html",
                                     authentication_form=LoginForm,
                                     redirect_authenticated_user=True),
        name="login",
    ),
    path("admin/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Forgotten password (from the login page) and the one-time set-password links that
    # Nhân sự and create_shop send: public pages, no shop yet.
    path("admin/password-reset/", account_views.PasswordResetView.as_view(),
         name="password_reset"),
    path("admin/password-reset/sent/", account_views.password_reset_done,
         name="password_reset_done"),
    path("admin/password-reset/<uidb64>/<token>/",
         account_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("admin/password-reset/done/", account_views.password_reset_complete,
         name="password_reset_complete"),
    path("admin/", include((backoffice, "crm"))),
    # Each app's backoffice pages, public pages and API, by dotted name: crm imports no app.
    path("admin/imports/", include("imports.urls")),
    # Groups live under the customers (/admin/customers/groups/, a customer's Nhóm tab at
    # /admin/customers/<code>/groups/): included first, since customers' "<code>/" would
    # otherwise take "groups/" for a customer code.
    path("admin/customers/", include("groups.urls")),
    path("admin/customers/", include("customers.urls")),
    path("admin/orders/", include("orders.urls")),
    path("admin/loyalty/", include("loyalty.urls")),
    path("", include("customers.public_urls")),
    path("api/v1/", include("orders.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Django's own admin is for platform operators (is_staff) only, away from the shops' UI.
    path("platform/", admin.site.urls),
]
# 403 and 404 use Django's views with templates/403.html and 404.html; the 500 page needs
# an error id that the log line carries.
handler500 = "crm.views.server_error"
