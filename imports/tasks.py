"""Thin Celery wrappers: load by id, call one service."""

from celery import shared_task

from . import exports, services


@shared_task(name="imports.import_check")
def import_check(tenant_id: int, job_id: int, membership_id: int | None) -> None:
    """The preview: every row parsed, validated and matched, nothing written."""
    services.job_execute(tenant_id, job_id, membership_id, dry_run=True)


@shared_task(name="imports.import_run")
def import_run(tenant_id: int, job_id: int, membership_id: int | None) -> None:
    services.job_execute(tenant_id, job_id, membership_id, dry_run=False)


@shared_task(name="imports.export_run")
def export_run(export_id: int) -> None:
    exports.export_execute(export_id)


@shared_task(name="imports.files_purge")
def files_purge() -> None:
    services.files_purge()
