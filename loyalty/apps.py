from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from customers.tabs import ProfileTab, register_profile_tab

        register_profile_tab(ProfileTab("points", _("Points"), "loyalty:customer_points", 70))
