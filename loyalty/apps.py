from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from crm import registry

        registry.register_profile_tab(registry.ProfileTab(
            "points", _("Points"), "loyalty:customer_points", 70))
