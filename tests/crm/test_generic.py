"""The shared pieces: sidebar entries from the registry, the table's cells, the pager's
query, and the object mixin's redirect for a merged code."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from crm import registry
from crm.navigation import nav_for
from crm.pagination import KeysetPage, ListResult
from crm.tables import Column


def test_sidebar_lists_registered_entries_the_role_may_open(manager, collaborator):
    keys = {e.key for e in registry.nav_entries}
    assert {"dashboard", "customers", "orders", "staff", "settings"} <= keys
    manager_labels = [i["url"] for i in nav_for(manager, "/admin/")]
    assert reverse("crm:settings") in manager_labels
    assert reverse("crm:settings") not in [i["url"] for i in nav_for(collaborator, "/admin/")]


@pytest.mark.parametrize("path, active", [
    ("/admin/", "crm:dashboard"),
    ("/admin/customers/KH000001/", "customers:customer_list"),
    ("/admin/customers/settings/tag/", "crm:settings"),
    ("/admin/orders/api-keys/", "crm:settings"),
    ("/admin/orders/DH000001/", "orders:order_list"),
])
def test_one_entry_is_active_the_one_the_page_belongs_to(owner, path, active):
    items = nav_for(owner, path)
    assert [i["url"] for i in items if i["active"]] == [reverse(active)]


def _render_table(rows, columns, **extra):
    page = KeysetPage(rows=rows, next_cursor=None, prev_cursor=None)
    html = Template('{% include "includes/table.html" %}').render(Context({
        "result": ListResult(page=page, count=len(rows), more=False, sort=""),
        "columns": columns, **extra}))
    return html


class Row:
    def __init__(self, code, name):
        self.code, self.full_name = code, name


def test_table_renders_each_column_partial_with_the_row_and_marks_card_cells(db):
    columns = [Column("code", "Code", "code", cell="customers/cells.html#code"),
               Column("email", "Email", cell="customers/cells.html#email", card=True)]
    row = Row("KH000007", "Nguyễn Văn Đức")
    row.email = "duc@example.vn"
    html = _render_table([row], columns)
    assert reverse("customers:customer_detail", args=["KH000007"]) in html
    assert '<td class="cell-email cell-card">duc@example.vn</td>' in html
    assert "sort=code" in html  # the sortable column's header is a link


def test_table_says_when_nothing_matches(db):
    html = _render_table([], [Column("email", "Email", cell="customers/cells.html#email")],
                         empty_title="Không có khách hàng nào")
    assert "Không có khách hàng nào" in html
