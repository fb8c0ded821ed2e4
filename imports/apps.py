from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Import and export")

    def ready(self):
        from crm import audit, registry

        from . import activity, demo, exports

        audit.register_action_texts(activity.ACTION_TEXTS)
        registry.register_nav_entry(registry.NavEntry(
            "imports", pgettext_lazy("menu", "Excel import / export"), "imports:list",
            "ti-file-spreadsheet", 80, "import.run"))
        # The imports a customer came from, on the profile's timeline; the link opens the
        # import's page, for managers (the import screens' access).
        registry.register_timeline_source(registry.TimelineSource(
            "imports", activity.import_timeline, action="import.run"))
        # "Xuất Excel" on the customer list, a group's page, the orders list and the ledger.
        for action in exports.LIST_ACTIONS:
            registry.register_list_action(action)
        # After the customers and orders (10, 20): an import updates and adds a few.
        registry.register_demo_seeder(registry.DemoSeeder("imports", 60, demo.seed_demo_import))
