from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from crm import audit, registry
        from customers.signals import customers_merged
        from orders.signals import order_contribution_changed, order_points_value

        from . import activity, extensions, field_defs, receivers

        field_defs.register()  # points, lifetime points and tier in the customer fields
        audit.register_action_texts(activity.ACTION_TEXTS)
        registry.register_profile_tab(registry.ProfileTab(
            "points", _("Points"), "loyalty:customer_points", 70, action="points.view",
            shown=extensions.shown))
        registry.register_overview_rows(registry.OverviewRows(
            "loyalty", "loyalty/_overview_rows.html", extensions.overview_rows, 50,
            action="points.view"))
        registry.register_nav_entry(registry.NavEntry(
            "loyalty", pgettext_lazy("menu", "Loyalty"), "loyalty:program", "ti-award", 45,
            "loyalty.view"))
        registry.register_timeline_source(registry.TimelineSource(
            "loyalty", activity.loyalty_timeline, action="points.view"))
        # The program before the demo orders (20), so that they earn; a few updates after.
        registry.register_demo_seeder(registry.DemoSeeder(
            "loyalty", 15, extensions.seed_demo_program))
        registry.register_demo_seeder(registry.DemoSeeder(
            "loyalty_adjustments", 35, extensions.seed_demo_adjustments))
        order_contribution_changed.connect(receivers.follow_order,
                                           dispatch_uid="loyalty.follow_order")
        order_points_value.connect(receivers.price_points, dispatch_uid="loyalty.price_points")
        customers_merged.connect(receivers.move_points_on_merge,
                                 dispatch_uid="loyalty.move_points_on_merge")
