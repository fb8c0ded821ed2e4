from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def vnd(value) -> str:
    """Whole đồng with dots: 1500000 -> '1.500.000 ₫'."""
    if value in (None, ""):
        return ""
    return f"{int(value):,}".replace(",", ".") + " ₫"


@register.filter
def thousands(value) -> str:
    return f"{int(value or 0):,}".replace(",", ".")


@register.simple_tag
def count_label(count: int, more: bool) -> str:
    if more:
        return _("more than %(n)s customers") % {"n": thousands(count)}
    return _("%(n)s customers") % {"n": thousands(count)}


@register.simple_tag(takes_context=True)
def cell(context, column, row):
    """One table cell: the column's partial (crm/tables.py) rendered with ``row``."""
    partial = context.template.engine.get_template(column.cell)
    with context.push(row=row):
        return partial.render(context)
