from django.urls import path
from django.utils.translation import gettext_lazy as _

from customers.empty_tabs import EmptyTabView

app_name = "groups"

urlpatterns = [
    path("customer/<str:code>/", EmptyTabView.as_view(
        tab_key="groups", empty_icon="ti-users-group",
        empty_title=_("Not in any group yet"),
        empty_text=_("Static and rule-based groups this customer belongs to.")),
        name="customer_groups"),
]
