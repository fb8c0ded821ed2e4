from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from crm import audit, registry
        from customers.signals import customers_merged

        from . import activity, dashboard, extensions, field_defs, receivers

        registry.register_nav_entry(registry.NavEntry(
            "orders", _("Orders"), "orders:order_list", "ti-receipt", 40, "order.view"))
        for key, label, order in extensions.PROFILE_TABS:
            registry.register_profile_tab(registry.ProfileTab(
                key, label, f"orders:customer_{key}", order, action="order.view"))
        registry.register_customer_totals(registry.CustomerTotals(
            "orders", extensions.customer_totals))
        field_defs.register()
        customers_merged.connect(receivers.move_orders_on_merge,
                                 dispatch_uid="orders.move_orders_on_merge")
        registry.register_settings_section(registry.SettingsSection(
            label=_("Order figures"), url_name="orders:recompute", icon="ti-calculator",
            description=_("Recompute customers' order totals now"), action="stats.recompute"))
        registry.register_settings_section(registry.SettingsSection(
            label=_("API keys"), url_name="orders:api_keys", icon="ti-key",
            description=_("Keys sales channels use to send orders"), action="api_keys.manage"))
        registry.register_demo_seeder(registry.DemoSeeder("orders", 20,
                                                          extensions.seed_demo_orders))
        dashboard.register()
        # The customer's timeline (profile › Ghi chú & hoạt động) and the change log's words.
        registry.register_timeline_source(registry.TimelineSource(
            "orders", activity.order_timeline, action="order.view"))
        audit.register_action_texts(activity.ACTION_TEXTS)
