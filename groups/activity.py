"""What the groups app's change-log actions (groups and saved filters) are, in words
(crm.audit.action_text)."""

from django.utils.translation import gettext_lazy

from crm.audit import ActionText

ACTION_TEXTS = {
    "group.create": ActionText(gettext_lazy("created a customer group"), "ti-users-group"),
    "group.update": ActionText(gettext_lazy("edited a customer group"), "ti-users-group"),
    "group.archive": ActionText(gettext_lazy("archived a customer group"), "ti-archive"),
    "group.restore": ActionText(gettext_lazy("restored a customer group"), "ti-archive-off"),
    "group.pins_add": ActionText(gettext_lazy("added customers to a group by hand"),
                                 "ti-user-plus"),
    "group.pins_remove": ActionText(gettext_lazy("took customers off a group's list"),
                                    "ti-user-minus"),
    "group.add_tag": ActionText(gettext_lazy("tagged the members of a group"), "ti-tag"),
    "saved_filter.create": ActionText(gettext_lazy("saved a filter of the customer list"),
                                      "ti-filter-plus"),
    "saved_filter.update": ActionText(gettext_lazy("changed a saved filter"), "ti-filter-edit"),
    "saved_filter.delete": ActionText(gettext_lazy("deleted a saved filter"), "ti-filter-x"),
}
