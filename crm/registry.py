"""Extension points that let higher apps add to pages owned by lower ones (DESIGN.md:
``crm`` imports no app). Apps register in their ``AppConfig.ready()``."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SettingsSection:
    label: str
    url_name: str
    icon: str
    description: str = ""
    action: str = "settings.view"  # the access table's action that shows the section


settings_sections: list[SettingsSection] = []


def register_settings_section(section: SettingsSection) -> None:
    if section not in settings_sections:
        settings_sections.append(section)


# Demo data: ``seed_demo`` creates the shop and its staff, then calls each app's seeder
# with (tenant, memberships_by_role, count) so that apps add their own demo rows.
demo_seeders: list = []


def register_demo_seeder(func) -> None:
    if func not in demo_seeders:
        demo_seeders.append(func)


# Dashboard cards: callables (tenant, membership) -> list of {"label", "value", "icon"}.
dashboard_cards: list = []


def register_dashboard_cards(func) -> None:
    if func not in dashboard_cards:
        dashboard_cards.append(func)
