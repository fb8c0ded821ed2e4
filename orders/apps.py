from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from customers.tabs import ProfileTab, register_profile_tab

        from .urls import TABS

        for key, label, order, *_rest in TABS:
            register_profile_tab(ProfileTab(key, label, f"orders:customer_{key}", order))
