from django.urls import path
from django.utils.translation import gettext_lazy as _

from customers.empty_tabs import EmptyTabView

app_name = "loyalty"

urlpatterns = [
    path("customer/<str:code>/", EmptyTabView.as_view(
        tab_key="points", empty_icon="ti-award",
        empty_title=_("No points yet"),
        empty_text=_("Points earned with orders and adjusted by managers.")),
        name="customer_points"),
]
