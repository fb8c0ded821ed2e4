"""Reads for the import screens: the shop's history, its saved mappings, and which targets
hold dates (the mapping screen asks for their day/month order)."""

from django.db.models import QuerySet

from .models import ImportJob, ImportKind, MappingTemplate

HISTORY_SIZE = 50
DATE_PARSES = {"birthday", "date"}


def import_history(*, tenant, limit: int = HISTORY_SIZE) -> list[ImportJob]:
    """The shop's latest imports, newest first (the history is small: one page of them)."""
    return list(ImportJob.objects.for_tenant(tenant).select_related("created_by")
                .order_by("-created_at", "-pk")[:limit])


def mapping_templates(*, tenant, kind: str) -> QuerySet:
    return MappingTemplate.objects.for_tenant(tenant).filter(kind=kind).order_by("name")


def date_target_keys(kind: str) -> set[str]:
    """The mapping targets whose cells are dates: a column mapped to one of them gets the
    "Thứ tự ngày" choice even when its first rows do not say which order it uses."""
    if kind == ImportKind.CUSTOMERS:
        from customers.fields import io_fields

        return {f.key for f in io_fields(importable=True) if f.io.parse in DATE_PARSES}
    try:
        from .orders_engine import DATE_TARGETS
    except ImportError:  # the orders importer is not written yet
        return set()
    return set(DATE_TARGETS)
