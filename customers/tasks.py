"""Thin Celery wrappers."""

from celery import shared_task

from . import search_index


@shared_task(name="customers.name_index_merge")
def name_index_merge() -> int:
    return search_index.merge_name_index()
