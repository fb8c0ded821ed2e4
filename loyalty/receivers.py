"""What the loyalty app does when the orders and customers apps act (connected in
``LoyaltyConfig.ready``); each receiver calls one service, inside the sender's
transaction."""

from . import services


def follow_order(sender, tenant, order, before, after, actor=None, **kwargs):
    services.points_follow_order(tenant=tenant, order=order, before=before, after=after,
                                 actor=actor)


def price_points(sender, tenant, points, **kwargs):
    return services.points_value(tenant=tenant, points=points)


def move_points_on_merge(sender, tenant, survivor, merged, **kwargs):
    services.points_move_on_merge(tenant=tenant, survivor=survivor, merged=merged)
