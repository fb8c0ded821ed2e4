from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from customers.views import RegistrationView
from orders.api import orders_ingest

from . import views
from .forms import LoginForm

backoffice = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("switch-shop/", views.switch_tenant_view, name="switch_tenant"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
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
    path("admin/", include((backoffice, "crm"))),
    path("admin/customers/", include("customers.urls")),
    path("admin/orders/", include("orders.urls")),
    path("admin/groups/", include("groups.urls")),
    path("admin/loyalty/", include("loyalty.urls")),
    path("r/<slug:slug>/", RegistrationView.as_view(), name="register"),
    path("api/v1/orders", orders_ingest, name="api_orders"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Django's own admin is for platform operators (is_staff) only, away from the shops' UI.
    path("platform/", admin.site.urls),
]
# 403 and 404 use Django's views with templates/403.html and 404.html; the 500 page needs
# an error id that the log line carries.
handler500 = "crm.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
