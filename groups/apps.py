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
        # Recompute groups by conditions after large changes of what their rules read.
        from customers.signals import customers_bulk_changed
        from orders.signals import aggregates_recomputed

        from . import receivers

        aggregates_recomputed.connect(receivers.recompute_after_aggregates,
                                      dispatch_uid="groups.recompute_after_aggregates")
        customers_bulk_changed.connect(receivers.recompute_after_bulk_change,
                                       dispatch_uid="groups.recompute_after_bulk_change")
