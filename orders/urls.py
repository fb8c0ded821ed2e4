from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("new/", views.OrderCreateView.as_view(), name="order_create"),
    path("recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("api-keys/", views.ApiKeysView.as_view(), name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    # Profile tabs (the customers app lists them; see apps.py).
    path("customer/<str:code>/orders/", views.CustomerOrdersTab.as_view(),
         name="customer_orders"),
    path("customer/<str:code>/related/", views.CustomerRelatedTab.as_view(),
         name="customer_related"),
    path("customer/<str:code>/returns/", views.CustomerReturnsTab.as_view(),
         name="customer_returns"),
    path("customer/<str:code>/debt/", views.CustomerDebtTab.as_view(), name="customer_debt"),
    path("<str:code>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("<str:code>/<str:action>/", views.OrderActionView.as_view(), name="order_action"),
]
