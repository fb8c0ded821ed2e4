from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Shops and staff")

    def ready(self):
        from . import checks, registry  # noqa: F401 - importing checks registers them

        for entry in [
            registry.NavEntry("dashboard", _("Dashboard"), "crm:dashboard",
                              "ti-layout-dashboard", 10),
            registry.NavEntry("staff", pgettext_lazy("menu", "Staff"), "crm:staff_list",
                              "ti-id-badge-2", 80, "staff.view"),
            registry.NavEntry("settings", _("Settings"), "crm:settings", "ti-settings", 90,
                              "settings.view"),
        ]:
            registry.register_nav_entry(entry)
        registry.register_settings_section(registry.SettingsSection(
            label=pgettext_lazy("menu", "Staff"), url_name="crm:staff_list",
            icon="ti-id-badge-2", description=_("Who works in the shop, roles, passwords"),
            action="staff.view"))
