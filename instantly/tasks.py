"""Celery tasks of the Instantly boundary: workspace syncs (beat runs `sync_all_workspaces`)
and block-list entries for do-not-contact replies.

Tasks take ids, never model instances, and open `staff_scope()` themselves: a sync works across
organizations and on the shared workspace's unassigned rows. An Instantly failure is recorded on
the connection (status, last error, alert) by the sync and returned, not raised, so the worker
log is not a wall of tracebacks for an expired key; a bug still raises.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from celery import shared_task

from accounts.tenancy import staff_scope
from instantly import alert_delivery, blocklist
from instantly.connections import ensure_shared_connection
from instantly.errors import InstantlyError
from instantly.models import BlocklistAction, ProviderConnection
from instantly.sync.run import SyncAlreadyRunning, sync_workspace
from instantly.sync.write import WorkspaceMismatchError
from salesbrain.logs import log_context

logger = logging.getLogger(__name__)


@shared_task(name="instantly.tasks.sync_workspace_task")
def sync_workspace_task(connection_id: str, full: bool = False) -> dict[str, Any]:
    """Sync one connection's workspace; returns the sync's counts (or why it did not run)."""
    with log_context(connection_id=str(connection_id)):  # the sync adds its sync_id
        return _sync_connection(connection_id, full)


def _sync_connection(connection_id: str, full: bool) -> dict[str, Any]:
    with staff_scope():
        connection = ProviderConnection.objects.unscoped().filter(pk=connection_id).first()
    if connection is None:
        return {"skipped": "no such connection", "connection_id": str(connection_id)}
    if connection.status == ProviderConnection.Status.DISABLED:
        return {"skipped": "connection disabled", "connection_id": str(connection_id)}
    try:
        return sync_workspace(connection, full=full).as_dict()
    except SyncAlreadyRunning as exc:
        logger.info("%s", exc)
        return {"skipped": "already running", "connection_id": str(connection_id)}
    except (InstantlyError, WorkspaceMismatchError):
        # sync_workspace recorded the failure on the connection (and on this instance).
        return {"error": connection.last_error, "connection_id": str(connection_id)}


@shared_task(name="instantly.tasks.sync_all_workspaces")
def sync_all_workspaces() -> dict[str, Any]:
    """Queue a sync of every connection that is not disabled (the beat schedule's entry).

    The shared connection is created or updated from INSTANTLY_API_KEY first."""
    ensure_shared_connection()
    with staff_scope():
        ids = list(
            ProviderConnection.objects.unscoped()
            .exclude(status=ProviderConnection.Status.DISABLED)
            .values_list("pk", flat=True)
        )
    for connection_id in ids:
        sync_workspace_task.delay(str(connection_id))
    return {"queued": len(ids)}


@shared_task(name="instantly.tasks.deliver_alerts", ignore_result=True)
def deliver_alerts() -> dict:
    """Every minute (beat), and after a webhook batch that raised an alert: tell staff."""
    return {"sent": alert_delivery.deliver()}


@shared_task(name="instantly.tasks.push_blocklist_actions")
def push_blocklist_actions(action_ids: list[int]) -> dict[str, int]:
    """Add the addresses of pending do-not-contact actions to their block lists."""
    done: dict[str, int] = {}
    with staff_scope():
        for action in BlocklistAction.objects.unscoped().filter(
            pk__in=action_ids, status=BlocklistAction.Status.PENDING
        ):
            status = blocklist.push(action).status
            done[status] = done.get(status, 0) + 1
    return done


@shared_task(name="instantly.tasks.reconcile_deliveries_task")
def reconcile_deliveries_task(connection_id: str) -> dict[str, Any]:
    """Replay what one connection's delivery log shows we never received."""
    from instantly.reconcile import reconcile_deliveries

    with staff_scope():
        connection = ProviderConnection.objects.unscoped().filter(pk=connection_id).first()
    if connection is None or connection.status == ProviderConnection.Status.DISABLED:
        return {"skipped": "no such connection or disabled", "connection_id": str(connection_id)}
    with log_context(connection_id=str(connection_id)):
        try:
            return dataclasses.asdict(reconcile_deliveries(connection))
        except InstantlyError as exc:
            logger.warning("delivery reconciliation of %s failed: %s", connection.name, exc)
            return {"error": str(exc)[:500], "connection_id": str(connection_id)}


@shared_task(name="instantly.tasks.reconcile_all_deliveries")
def reconcile_all_deliveries() -> dict[str, Any]:
    """Queue a reconciliation of every subscribed connection (the beat schedule's entry)."""
    with staff_scope():
        ids = list(
            ProviderConnection.objects.unscoped()
            .exclude(status=ProviderConnection.Status.DISABLED)
            .exclude(webhook_subscription_id="")
            .values_list("pk", flat=True)
        )
    for connection_id in ids:
        reconcile_deliveries_task.delay(str(connection_id))
    return {"queued": len(ids)}
