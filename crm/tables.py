"""One table component: a list's columns, each with its header, sort key and cell.

A cell is a named partial (django-template-partials ``{% partialdef %}``) of a cells
template: ``Column("phone", _("Phone"), cell="customers/cells.html#phone")``. The table
renders every cell through ``{% cell col row %}`` (crm_tags), which keeps one compiled
partial per column: no template include, no chain of ``{% if col.key == ... %}`` per cell.
"""

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
