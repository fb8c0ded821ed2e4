"""Signals the orders app sends for higher apps (loyalty earns points on delivery)."""

from django.dispatch import Signal

# Sent after the transaction that delivered an order commits. kwargs: order
order_delivered = Signal()
