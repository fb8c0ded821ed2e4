"""The customer list's saved filters: the built-in ones every shop has, and what "the list
is in this state" means.

The built-in filters are code, not rows: their names translate, and the channel filters
follow the shop's own sources (a channel added in the settings gets its filter at once, a
channel taken out of use loses it). A user's saved filters are ``groups.models.SavedFilter``
rows (``groups.services.saved``).

What the built-in filters mean (the seed's wording for the 7/30-day filters contradicts
itself — "không có đơn hàng ... trong 7 ngày" under "Mua hàng 7 ngày gần đây" — so they
read as "the last purchase was within N days"):

* "Mua hàng trong 7 / 30 ngày gần đây": the last delivered order at most 7 / 30 days ago
  (``days_since_purchase_max``); never-bought customers are not in them.
* "Đã lâu không mua hàng": the last delivered order 31 days ago or more
  (``days_since_purchase_min=31``); never-bought customers are not in it either (a customer
  who never bought has not "not bought for a long time": the list's own filter offers
  "chưa từng mua" for them).
* "Đã đăng ký thành viên": active members (Chính thức).
* "Chưa đăng ký thành viên": walk-in guests and pending members (Tạm thời: registered on
  the public page, not approved yet) — everyone who could be made an active member with
  the bulk "Kích hoạt thành viên". Cancelled members (Đã hủy) are in neither: they left on
  purpose, and bringing one back is a decision taken on their profile.
* "Khách hàng từ <kênh>": one per channel of the shop — a source in use inside a channel
  group in use (Sàn TMĐT › Shopee) — with ``source=<id>``. The groups themselves and the
  sources outside any group (Người giới thiệu...) are not sales channels and get none.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from customers.models import MembershipState, Source
from customers.selectors import DEFAULT_SORT

# Parameters that move through a list's pages or ask for a part of it: never its state.
NOT_STATE = frozenset({"after", "before", "_panel"})
# Also left out when comparing two states: the page size shows more rows of the same list.
NOT_COMPARED = NOT_STATE | {"size"}
MAX_QUERY_LENGTH = 2000


@dataclass(frozen=True)
class BuiltInFilter:
    key: str  # "recent-7", "channel-12": how a form names it
    label: str
    query: str  # the customer list's query string
    icon: str
    note: str = ""  # what it means, in a sentence (the chip's title)
    channel: bool = False


BUILT_IN: list[BuiltInFilter] = [
    BuiltInFilter("recent-7", _("Bought in the last 7 days"), "days_since_purchase_max=7",
                  "ti-shopping-cart",
                  _("Last delivered order at most 7 days ago.")),
    BuiltInFilter("recent-30", _("Bought in the last 30 days"), "days_since_purchase_max=30",
                  "ti-shopping-cart",
                  _("Last delivered order at most 30 days ago.")),
    BuiltInFilter("lapsed", _("Not bought for a long time"), "days_since_purchase_min=31",
                  "ti-hourglass",
                  _("Last delivered order 31 days ago or more (customers who never bought "
                    "are not included).")),
    BuiltInFilter("members", _("Registered members"),
                  urlencode({"membership_state": MembershipState.ACTIVE.value}),
                  "ti-id-badge-2", _("Active members.")),
    BuiltInFilter("not-members", _("Not registered as members"),
                  urlencode([("membership_state", MembershipState.GUEST.value),
                             ("membership_state", MembershipState.PENDING.value)]),
                  "ti-user-question",
                  _("Walk-in guests and pending members; cancelled members are not "
                    "included.")),
]


def channel_filters(tenant) -> list[BuiltInFilter]:
    """"Khách hàng từ <kênh>" for each channel of the shop, in the settings' order (one
    query)."""
    channels = list(Source.objects.for_tenant(tenant)
                    .filter(parent__isnull=False, is_active=True, parent__is_active=True)
                    .order_by("parent__position", "parent_id", "position", "id")
                    .values_list("pk", "name", "parent__name"))
    names = [name for _pk, name, _group in channels]
    return [
        BuiltInFilter(
            f"channel-{pk}",
            _("Customers from %(channel)s") % {
                # Two channels of one name (in two groups) read with their group.
                "channel": name if names.count(name) == 1 else f"{group} › {name}"},
            urlencode({"source": pk}), "ti-building-store", channel=True)
        for pk, name, group in channels
    ]


def built_in_filters(tenant) -> list[BuiltInFilter]:
    return [*BUILT_IN, *channel_filters(tenant)]


def built_in_filter(tenant, key: str) -> BuiltInFilter | None:
    return next((f for f in built_in_filters(tenant) if f.key == key), None)


# --- the list's state ---------------------------------------------------------------------

def _pairs(query) -> list[tuple[str, str]]:
    if isinstance(query, str):
        query = QueryDict(query.lstrip("?"))
    return [(key, value.strip()) for key, values in query.lists() for value in values
            if value.strip()]


def list_state(query) -> str:
    """The query string a saved filter keeps: the list's search, filters, sort and page
    size, without its paging position and empty boxes (a query string or a QueryDict)."""
    return urlencode([(k, v) for k, v in _pairs(query) if k not in NOT_STATE])


def state_key(query) -> tuple:
    """What two list states must share to be the same view: the parameters in any order,
    without the paging position, the page size and the default sort."""
    return tuple(sorted((k, v) for k, v in _pairs(query)
                        if k not in NOT_COMPARED and not (k == "sort" and v == DEFAULT_SORT)))


def same_state(a, b) -> bool:
    return state_key(a) == state_key(b)


# --- what the groups app adds to other pages (GroupsConfig.ready) --------------------------

def register() -> None:
    from crm import registry

    registry.register_list_toolbar(registry.ListToolbar(
        "saved_filters", "customers", "groups/saved_filters/chips.html", _chips_context,
        order=10))


def _chips_context(request, list_context: dict) -> dict:
    from .filter_views import chips_context

    return chips_context(request, list_context)
