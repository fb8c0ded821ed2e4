"""One table component: a list's columns, each with its header, sort key and cell.

A cell is a named partial (django-template-partials ``{% partialdef %}``) of a cells
template: ``Column("phone", _("Phone"), cell="customers/cells.html#phone")``. The table
renders every cell through ``{% cell col row %}`` (crm_tags), which keeps one compiled
partial per column: no template include, no chain of ``{% if col.key == ... %}`` per cell.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # key of the list's sorts; None: not sortable
    cell: str = ""  # "template.html#partial"
    # Shown on the phone card (at 390 px a row becomes a card with these cells only).
    card: bool = False
    css: str = ""  # classes of the <td>/<th>, e.g. "text-end"
    # What the cell reads beyond the row's own fields: select_related paths and
    # prefetch_related lookups. A list joins only what its shown columns need.
    related: tuple = ()
    prefetch: tuple = ()

    @property
    def td_class(self) -> str:
        """The cell's classes in one string (one template lookup per cell, not four)."""
        return " ".join(filter(None, (f"cell-{self.key}", "cell-card" if self.card else "",
                                      self.css)))


@dataclass(frozen=True)
class ColumnChoice:
    """A list whose columns each user may show, hide and reorder (kept per shop and user
    in ``UserPreference`` under ``preference_key``). ``available`` and ``defaults`` are
    callables so that columns other apps register (the customer field registry) count."""

    preference_key: str
    available: Callable[[], list[Column]]
    defaults: Callable[[], list[str]]

    def by_key(self) -> dict[str, Column]:
        return {c.key: c for c in self.available()}

    def chosen(self, tenant, user) -> list[Column]:
        """The user's columns in their order, or the default set."""
        from .models import UserPreference

        pref = (UserPreference.objects.for_tenant(tenant)
                .filter(user=user, key=self.preference_key).first())
        keys = pref.value.get("columns", []) if pref else []
        known = self.by_key()
        return ([known[k] for k in keys if k in known]
                or [known[k] for k in self.defaults() if k in known])
