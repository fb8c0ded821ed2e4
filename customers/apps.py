from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm import registry
        from crm.signals import tenant_created

        from . import activity, dashboard, demo, field_defs, search_index
        from .signals import customers_bulk_changed

        tenant_created.connect(_seed_new_shop, dispatch_uid="customers.seed_defaults")
        customers_bulk_changed.connect(search_index.merge_after_bulk_change,
                                       dispatch_uid="customers.name_index_merge")
        for kind, label, icon, description in [
            ("carestatus", _("Care statuses"), "ti-progress-check",
             _("The care pipeline, its order and colors")),
            ("source", _("Customer sources"), "ti-route",
             _("Channel groups and channels customers come from")),
            ("taggroup", _("Tag groups"), "ti-folders",
             _("Purchase nature, business type, product category...")),
            ("tag", _("Tags"), "ti-tags", _("Tags to classify customers")),
        ]:
            registry.register_settings_section(registry.SettingsSection(
                label=label, url_name=f"customers:lookup_list_{kind}", icon=icon,
                description=description))
        registry.register_nav_entry(registry.NavEntry(
            "customers", _("Customers"), "customers:customer_list", "ti-users", 20,
            "customer.view"))
        registry.register_demo_seeder(registry.DemoSeeder("customers", 10,
                                                          demo.seed_demo_customers))
        for key, label, url_name, order in [
            ("info", _("Information"), "customers:customer_info", 10),
            ("activity", _("Notes & activity"), "customers:customer_activity", 80),
            ("history", _("Change history"), "customers:customer_history", 90),
        ]:
            registry.register_profile_tab(registry.ProfileTab(key, label, url_name, order))
        field_defs.register()
        dashboard.register()
        activity.register()


def _seed_new_shop(sender, tenant, **kwargs):
    from .defaults import seed_defaults

    seed_defaults(tenant)
