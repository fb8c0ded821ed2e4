"""What the imports app tells in words: its change-log actions, and "imported from Excel"
on the customer's timeline (crm.registry.TimelineSource)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.audit import ActionText
from crm.registry import TimelineEntry
from customers.activity import actor_name

from .models import ImportedCustomer

ACTION_TEXTS = {
    "import.run": ActionText(gettext_lazy("imported a file"), "ti-file-import"),
    "customer.import_update": ActionText(gettext_lazy("updated the profile from an Excel "
                                                      "file"), "ti-file-import"),
}


def import_timeline(customer, actor, limit: int) -> list[TimelineEntry]:
    """The imports that created or updated the customer (one query)."""
    rows = (ImportedCustomer.objects.for_tenant(customer.tenant).filter(customer=customer)
            .select_related("job__created_by").order_by("-id")[:limit])
    entries = []
    for row in rows:
        job = row.job
        sentence = (_("Created from the Excel file %(file)s, row %(row)d") if row.created
                    else _("Updated from the Excel file %(file)s, row %(row)d")) % {
            "file": job.file_name, "row": row.row}
        url = reverse("imports:job", kwargs={"pk": job.pk})
        entries.append(TimelineEntry(job.finished_at or job.created_at, "ti-file-import",
                                     sentence, url,
                                     actor_name(job.created_by) if job.created_by_id else ""))
    return entries
