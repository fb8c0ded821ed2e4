import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.money import format_money
from crm.text import initials as _initials

register = template.Library()


@register.filter
def initials(name) -> str:
    """{{ name|initials }}: the letter of an initials avatar (crm.text.initials)."""
    return _initials(str(name or ""))


@register.filter
def vnd(value) -> str:
    """Whole đồng with dots: 1500000 -> '1.500.000 ₫'."""
    if value in (None, ""):
        return ""
    return format_money(value) + " ₫"


@register.filter
def dmy(value) -> str:
    """A date or datetime as dd/mm/yyyy in the shop's time zone: what ``|date:"d/m/Y"``
    shows, without its format lookups (tables show one per row)."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


@register.filter
def thousands(value) -> str:
    return format_money(value or 0)


@register.simple_tag
def count_label(count: int, more: bool) -> str:
    if more:
        return _("more than %(n)s customers") % {"n": thousands(count)}
    return _("%(n)s customers") % {"n": thousands(count)}


class CellNode(template.Node):
    """``{% cell column row %}``: one table cell, the column's partial (crm/tables.py)
    rendered with ``row``. The partial's nodes are rendered in the table's own context:
    no include, no template lookup beyond the first, no chain of ifs on the column key."""

    def __init__(self, column, row):
        self.column, self.row = column, row

    def render(self, context):
        column = self.column.resolve(context)
        partials = context.render_context.setdefault(CellNode, {})
        nodelist = partials.get(column.cell)
        if nodelist is None:
            nodelist = partials[column.cell] = (
                context.template.engine.get_template(column.cell).nodelist)
        with context.push(row=self.row.resolve(context)):
            return nodelist.render(context)


@register.tag
def cell(parser, token):
    try:
        _tag, column, row = token.split_contents()
    except ValueError as exc:
        raise template.TemplateSyntaxError("usage: {% cell column row %}") from exc
    return CellNode(parser.compile_filter(column), parser.compile_filter(row))


@register.inclusion_tag("includes/list_actions.html", takes_context=True)
def list_actions(context, list_key: str, **url_kwargs):
    """``{% list_actions "customers" %}``: the buttons other apps add above a list
    (crm.registry.ListAction), carrying the list's query string."""
    from crm import registry

    request = context.get("request")
    links = registry.list_action_links(list_key, request, **url_kwargs) if request else []
    return {"links": links, "csrf_token": context.get("csrf_token")}
