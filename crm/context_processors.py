from .access import Permissions
from .navigation import nav_for


def backoffice(request):
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "tenant": request.tenant,
        "membership": membership,
        "memberships": request.memberships,
        "nav_items": nav_for(membership, request.path),
        # {% if can.customer.assign %}: buttons and fields follow the access table.
        "can": Permissions(membership),
    }
