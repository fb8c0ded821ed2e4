from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Customer groups")

    def ready(self):
        from crm import registry

        from . import field_defs

        field_defs.register()

        registry.register_profile_tab(registry.ProfileTab(
            "groups", _("Groups"), "groups:customer_groups", 60))
