"""Celery tasks of the project base: the daily database backup (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from salesbrain import backups


@shared_task(name="salesbrain.tasks.backup_database", ignore_result=True)
def backup_database() -> dict:
    """Dump, encrypt, store and prune, as `manage.py backup` does."""
    result = backups.run_backup()
    return {"name": result.name, "bytes": result.size, "removed": list(result.removed)}
