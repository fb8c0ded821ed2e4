"""Signals the customers app sends so that higher apps move or update their own rows."""

from django.dispatch import Signal

# Sent inside the merge transaction, before ``merged`` is deleted. Receivers (orders,
# loyalty ledger, group memberships, follow-ups) re-point their rows to ``survivor``.
# kwargs: tenant, survivor, merged
customers_merged = Signal()
