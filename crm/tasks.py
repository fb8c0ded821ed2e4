"""Thin Celery wrappers: load by id, call one service."""

from celery import shared_task

from . import services


@shared_task(name="crm.staff_password_link_send")
def staff_password_link_send(membership_id: int, site_url: str) -> None:
    services.staff_password_link_send(membership_id=membership_id, site_url=site_url)
