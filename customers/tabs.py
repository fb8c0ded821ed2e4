"""The customer profile's tabs. Each app serves its own tab from its own views and
registers it here in ``AppConfig.ready()``; the profile only lists what is registered."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ProfileTab:
    key: str
    label: str
    url_name: str  # takes the customer code as ``code``
    order: int
    action: str = "customer.view"  # the access table's action that shows the tab


profile_tabs: list[ProfileTab] = []


def register_profile_tab(tab: ProfileTab) -> None:
    if all(t.key != tab.key for t in profile_tabs):
        profile_tabs.append(tab)
        profile_tabs.sort(key=lambda t: t.order)


# Order totals on the overview card: the orders app registers a callable customer -> dict
# with the keys below; until then the card shows zeros.
TOTAL_KEYS = ("delivered_orders", "total_spend", "spend_3_months", "average_order",
              "last_order_date", "debt")
totals_providers: list = []


def customer_totals(customer) -> dict:
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    totals["last_order_date"] = None
    for provider in totals_providers:
        totals.update(provider(customer))
    return totals
