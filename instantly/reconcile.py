"""Delivery reconciliation: replay what Instantly's delivery log shows we never received.

Instantly keeps a log of its webhook deliveries (`GET /api/v2/webhook-events`: payload,
success, retry count, will retry, status code, error message; one entry per attempt). A
delivery can fail for good: our server was down past Instantly's retries, or the subscription
was disabled after failures and resumed later. The periodic task (`reconcile_all_deliveries`,
every 10 minutes by default) reads the log back to a little before its last run and, for every
failed entry whose payload we never stored, stores that payload exactly as the receiver would
have (`ingest.store_delivery`) and records a `MissedDelivery`.

Never twice: the delivery key is the receiver's dedupe key (SHA-256 of the payload's canonical
JSON), so a payload stored by the receiver, by an earlier reconciliation or by another worker
at the same moment is a no-op; a retry Instantly makes after our replay is a duplicate too.

Unconfirmed (the API reference is silent): the log's order (taken as newest first, but the
walk only stops early on an entry older than the window, and is bounded), how long the log is
kept, and whether deliveries are logged at all while a subscription is disabled. The history
backfill (`sync.backfill`) recovers the emails themselves either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.client import InstantlyClient
from instantly.connections import client_for
from instantly.history_api import WebhookDeliveryLog, webhook_events_page
from instantly.models import HistoryBackfill, MissedDelivery, ProviderConnection, WebhookEvent
from instantly.webhooks.ingest import dedupe_key, store_delivery
from instantly.webhooks.tasks import enqueue_event
from salesbrain.bulk import insert_rows

logger = logging.getLogger(__name__)

# First run: how far back the log is read. Later runs: from the last run, minus the overlap
# (an entry can be logged a little after its timestamp; re-reading costs a page at most).
FIRST_LOOKBACK = dt.timedelta(days=7)
OVERLAP = dt.timedelta(hours=1)
MAX_PAGES = 200  # 20,000 log entries a run at most (a bound, should the order differ)
REPLAYED_REQUEST_PREFIX = "reconcile:"


@dataclasses.dataclass
class ReconcileResult:
    """What one reconciliation of one connection found."""

    pages: int = 0
    entries: int = 0
    failed: int = 0
    missed: int = 0
    recovered: int = 0

    def summary(self) -> str:
        return (
            f"{self.entries} log entries in {self.pages} page(s), {self.failed} failed "
            f"attempt(s): {self.missed} delivery(ies) never received, {self.recovered} replayed"
        )


def reconcile_deliveries(
    connection: ProviderConnection,
    *,
    client: InstantlyClient | None = None,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ReconcileResult:
    """Compare the connection's delivery log with what we stored; replay what is missing."""
    now = now or timezone.now()
    since = since or _window_start(connection, now)
    result = ReconcileResult()
    own = client is None
    api = client if client is not None else client_for(connection)
    try:
        cursor = ""
        while result.pages < MAX_PAGES:
            page = webhook_events_page(api, cursor)
            result.pages += 1
            result.entries += len(page.items)
            in_window = [
                e for e in page.items if not e.timestamp_created or e.timestamp_created >= since
            ]
            _recover(connection, [e for e in in_window if _failed(e)], result)
            if len(in_window) < len(page.items) or not page.next_cursor:
                break
            cursor = page.next_cursor
    finally:
        if own:
            api.close()
    _mark_run(connection, now)
    if result.missed:
        logger.warning("deliveries to %s: %s", connection.name, result.summary())
    return result


def _failed(entry: WebhookDeliveryLog) -> bool:
    """An attempt that did not reach us: not a success, whatever its retry state (a retry we
    receive later is a duplicate of our replay, so replaying early loses nothing)."""
    return entry.success is not True and entry.retry_successful is not True


def _ours(entry: WebhookDeliveryLog) -> bool:
    """Sent to our receiver, not to another consumer of the same workspace (a Zapier hook)."""
    ours = settings.INSTANTLY_WEBHOOK_URL
    if not ours or not entry.webhook_url:
        return True
    return entry.webhook_url.split("?", 1)[0].rstrip("/") == ours.split("?", 1)[0].rstrip("/")


def _recover(
    connection: ProviderConnection, entries: list[WebhookDeliveryLog], result: ReconcileResult
) -> None:
    entries = [e for e in entries if _ours(e)]
    result.failed += len(entries)
    by_key: dict[str, WebhookDeliveryLog] = {}
    for entry in entries:
        if isinstance(entry.payload, dict) and entry.payload:
            by_key.setdefault(dedupe_key(entry.payload), entry)
    if not by_key:
        return
    with staff_scope():
        stored = set(
            WebhookEvent.objects.unscoped()
            .filter(connection_id=connection.pk, dedupe_key__in=list(by_key))
            .values_list("dedupe_key", flat=True)
        )
    for key, entry in by_key.items():
        if key in stored:
            continue
        with staff_scope():
            # Recorded first: of two workers replaying the same delivery, one gets the row.
            claimed = insert_rows(MissedDelivery, [_missed(connection, key, entry)])
            if not claimed:
                continue
            result.missed += 1
            delivery = store_delivery(
                connection,
                entry.payload,
                enqueue=enqueue_event,
                request_id=f"{REPLAYED_REQUEST_PREFIX}{entry.id}",
            )
            if delivery.event_id is not None:
                MissedDelivery.objects.unscoped().filter(pk=claimed[0][0]).update(
                    recovered_event_id=delivery.event_id
                )
                result.recovered += 1


def _missed(connection: ProviderConnection, key: str, entry: WebhookDeliveryLog) -> dict[str, Any]:
    payload = entry.payload or {}
    return {
        "organization_id": connection.organization_id,
        "connection_id": connection.pk,
        "dedupe_key": key,
        "log_id": entry.id[:64],
        "event_type": str(payload.get("event_type") or "")[:200],
        "logged_at": entry.timestamp_created,
        "status_code": entry.status_code,
        "retry_count": max(0, entry.retry_count or 0),
        "error_message": (entry.error_message or "")[:2000],
        "found_at": timezone.now(),
    }


def _window_start(connection: ProviderConnection, now: dt.datetime) -> dt.datetime:
    with staff_scope():
        last = (
            ProviderConnection.objects.unscoped()
            .filter(pk=connection.pk)
            .values_list("history__deliveries_reconciled_at", flat=True)
            .first()
        )
    return (last - OVERLAP) if last else now - FIRST_LOOKBACK


def _mark_run(connection: ProviderConnection, now: dt.datetime) -> None:
    with staff_scope():
        state, _ = HistoryBackfill.objects.unscoped().get_or_create(
            connection=connection, defaults={"organization_id": connection.organization_id}
        )
        HistoryBackfill.objects.unscoped().filter(pk=state.pk).update(deliveries_reconciled_at=now)


def delivery_figures(connection: ProviderConnection) -> dict[str, Any]:
    """What staff see per connection: the last delivery received (a replay is not one),
    deliveries found missing in Instantly's log, and how many of them were replayed."""
    with staff_scope():
        last = (
            WebhookEvent.objects.unscoped()
            .filter(connection_id=connection.pk)
            .exclude(request_id__startswith=REPLAYED_REQUEST_PREFIX)
            .order_by("-received_at")
            .values_list("received_at", flat=True)
            .first()
        )
        missed = MissedDelivery.objects.unscoped().filter(connection_id=connection.pk)
        return {
            "last_received_at": last,
            "missed": missed.count(),
            "recovered": missed.filter(recovered_event__isnull=False).count(),
        }
