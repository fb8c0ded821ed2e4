"""Signals the customers app sends so that higher apps move or update their own rows."""

from django.dispatch import Signal

# Sent inside the merge transaction, before ``merged`` is deleted. Receivers (orders,
# loyalty ledger, group memberships, follow-ups) re-point their rows to ``survivor``.
# kwargs: tenant, survivor, merged
customers_merged = Signal()

# Sent by a change of many customers at once that no per-customer signal describes — the
# Excel importer when an import has been written (reason "import"); bulk edits of the list
# may send it too. Send it inside the transaction that wrote the customers (or right after
# it committed): receivers queue their slow work with transaction.on_commit (groups by
# conditions are recomputed in the background). kwargs: tenant, reason (a short word:
# "import", "bulk_edit").
customers_bulk_changed = Signal()
