"""Profile tabs whose data comes with a later app (orders, groups, loyalty).

Each app registers its tab with ``empty_tab(...)`` until it has rows to show; the tab is
real (own URL, scoped to the customer, 404 for another shop) and says clearly that there
is nothing yet.
"""

from .views import CustomerTabView


class EmptyTabView(CustomerTabView):
    tab_template = "customers/tabs/empty.html"
    empty_title = ""
    empty_text = ""
    empty_icon = "ti-inbox"

    def tab_context(self, customer):
        return {"empty_title": self.empty_title, "empty_text": self.empty_text,
                "empty_icon": self.empty_icon}
