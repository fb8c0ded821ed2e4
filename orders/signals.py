"""Signals the orders app sends for higher apps (loyalty earns points on delivery)."""

from django.dispatch import Signal

# Sent after the transaction that delivered an order commits. kwargs: order
order_delivered = Signal()

# Sent by orders.services.aggregates_recompute when the set-based recompute of a shop's
# order figures has finished (after its last batch committed), so that what reads the
# figures (groups by conditions) can follow. kwargs: tenant, changed (stats rows that
# changed; 0 when the figures were already right).
aggregates_recomputed = Signal()
