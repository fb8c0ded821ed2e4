"""The orders ingest API (API key auth), included under /api/v1/."""

from django.urls import path

from .api import orders_ingest

urlpatterns = [
    path("orders", orders_ingest, name="api_orders"),
]
