from django.urls import path
from django.utils.translation import gettext_lazy as _

from customers.empty_tabs import EmptyTabView

app_name = "orders"

# Profile tabs. They show a clean empty state until orders are recorded (orders issue).
TABS = [
    ("orders", _("Orders"), 20, "ti-receipt",
     _("No orders yet"), _("Delivered, pending and cancelled orders of this customer.")),
    ("related", _("Related orders"), 30, "ti-link",
     _("No related orders"),
     _("Orders whose phone or email matches this customer but are not linked to them.")),
    ("returns", _("Returns"), 40, "ti-receipt-refund",
     _("No returns"), _("Goods this customer sent back.")),
    ("debt", _("Debt"), 50, "ti-cash",
     _("No debt"), _("Amounts of delivered orders not yet paid.")),
]

urlpatterns = [
    path(f"customer/<str:code>/{key}/",
         EmptyTabView.as_view(tab_key=key, empty_title=title, empty_text=text, empty_icon=icon),
         name=f"customer_{key}")
    for key, _label, _order, icon, title, text in TABS
]
