"""The customer profile's overview figures. Tabs are registered with
``crm.registry.register_profile_tab``; order totals come from the app that owns orders,
through ``crm.registry.register_customer_totals``. Until one is registered, the card shows
zeros."""

from crm import registry

TOTAL_KEYS = ("delivered_orders", "total_spend", "spend_3_months", "average_order",
              "last_order_date", "debt")


def customer_totals(customer) -> dict:
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    totals["last_order_date"] = None
    for entry in registry.customer_totals_providers:
        totals.update(entry.provider(customer))
    return totals
