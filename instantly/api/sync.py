"""Queueing a workspace sync from the API: after commit, through the Celery task."""

from __future__ import annotations

from django.db import transaction

from instantly.connections import ensure_shared_connection
from instantly.models import ProviderConnection
from instantly.tasks import sync_workspace_task
from salesbrain.api.errors import Conflict


def queue_workspace_sync(connection: ProviderConnection, *, full: bool) -> None:
    """Enqueue `sync_workspace_task` once the request's transaction commits.

    A disabled connection is a 409; a sync already running is the task's concern (it skips).
    """
    if connection.status == ProviderConnection.Status.DISABLED:
        raise Conflict("This connection is disabled.", code="connection_disabled")
    connection_id = str(connection.pk)
    transaction.on_commit(lambda: sync_workspace_task.delay(connection_id, full), robust=True)


def shared_connection() -> ProviderConnection:
    """The agency's shared connection, refreshed from INSTANTLY_API_KEY when that is set."""
    connection = ensure_shared_connection()
    if connection is None:
        connection = ProviderConnection.objects.filter(is_shared=True).first()
    if connection is None:
        raise Conflict(
            "There is no shared workspace: set INSTANTLY_API_KEY or name a connection.",
            code="no_shared_connection",
        )
    return connection
