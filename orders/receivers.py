"""What the orders app does when the customers app acts."""

from django.db import transaction

from . import stats as aggregates
from .models import Order
from .services import lifecycle_refresh


def move_orders_on_merge(sender, tenant, survivor, merged, **kwargs):
    """Orders of a merged customer belong to the survivor; its aggregates are recomputed."""
    Order.objects.filter(tenant=tenant, customer=merged).update(customer=survivor)
    with transaction.atomic():
        aggregates.recompute_batch(tenant, survivor.pk, survivor.pk)
        lifecycle_refresh(survivor, aggregates.stats_for_update(survivor).delivered_orders,
                          tenant=tenant)
