from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Customer groups")

    def ready(self):
        from crm import audit, registry
        from customers.signals import customers_bulk_changed, customers_merged
        from orders.signals import aggregates_recomputed

        from . import activity, demo, field_defs, receivers, saved_filters

        field_defs.register()  # "Thuộc nhóm" in the customer field registry
        saved_filters.register()  # the customer list's saved filter chips
        audit.register_action_texts(activity.ACTION_TEXTS)
        registry.register_demo_seeder(registry.DemoSeeder("groups", 30, demo.seed_demo_groups))
        registry.register_profile_tab(registry.ProfileTab(
            "groups", _("Groups"), "groups:customer_groups", 60, action="group.view"))
        # Right after Khách hàng (20), before Đơn hàng (40): the sidebar has no sub-items.
        registry.register_nav_entry(registry.NavEntry(
            "groups", pgettext_lazy("menu", "Customer groups"), "groups:group_list",
            "ti-users-group", 25, "group.view"))
        # Recompute groups by conditions after large changes of what their rules read; keep
        # the history when customers are merged.
        aggregates_recomputed.connect(receivers.recompute_after_aggregates,
                                      dispatch_uid="groups.recompute_after_aggregates")
        customers_bulk_changed.connect(receivers.recompute_after_bulk_change,
                                       dispatch_uid="groups.recompute_after_bulk_change")
        customers_merged.connect(receivers.move_rows_on_merge,
                                 dispatch_uid="groups.move_rows_on_merge")
