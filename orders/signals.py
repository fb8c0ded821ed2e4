"""Signals the orders app sends for higher apps (loyalty earns and gives back points)."""

from django.dispatch import Signal

# Sent by every order service, inside its transaction and after the customer's aggregates
# moved, whenever what the order counts for changed: delivered, cancelled after delivery,
# returned in part or in full, re-delivered, paid, linked to another customer, amounts
# changed. kwargs: tenant, order (saved, locked), before and after (orders.stats.Contribution:
# what the order counted for, before and after the change; NOTHING when it had no
# customer), actor (who acted; a system actor for channels and jobs). Receivers are
# idempotent (they compare ``after`` with what they already counted, not with ``before``)
# and queue slow work with transaction.on_commit; raising ValidationError refuses the
# change (the transaction is rolled back and the person reads the message).
order_contribution_changed = Signal()

# Sent while an order is entered with ``points_redeemed``: what are that many points worth
# in this shop? kwargs: tenant, points. The loyalty app answers đồng, or raises
# ValidationError (no program, ...). Nobody answering means the shop has no points.
order_points_value = Signal()

# Sent by orders.services.aggregates_recompute when the set-based recompute of a shop's
# order figures has finished (after its last batch committed), so that what reads the
# figures (groups by conditions) can follow. kwargs: tenant, changed (stats rows that
# changed; 0 when the figures were already right).
aggregates_recomputed = Signal()
