"""Dropping the raw payloads of old processed webhook events (beat: hourly).

`webhook_event` keeps every delivery; its payloads are most of its size and, once processed,
are only read by a person looking at an old event. So the payload of a *processed* event older
than `WEBHOOK_PAYLOAD_RETENTION_DAYS` (default 90) becomes `{}` and `payload_pruned_at` says
when; the row, its status, type, dedupe key and times stay (a redelivery is still a duplicate).
Pending, processing, failed and ignored events are never touched: failed and ignored ones may
be reprocessed from their payload.

It must never stand in the receiver's way: it works in batches of `WEBHOOK_PAYLOAD_PRUNE_BATCH`
rows, each batch its own short transaction, claiming rows with `FOR UPDATE SKIP LOCKED` (a row
someone holds is left for the next run), found through a partial index of exactly the rows
still to prune, so a run never re-reads what earlier runs pruned. A run stops after
`max_seconds`; the next one carries on.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent

logger = logging.getLogger(__name__)


def prune_batch(cutoff: dt.datetime, batch: int) -> int:
    """Prune up to `batch` processed events received before `cutoff`; answer how many."""
    with staff_scope():
        events = WebhookEvent.objects.unscoped()
        ids = list(
            events.filter(
                status=WebhookEvent.Status.PROCESSED,
                payload_pruned_at__isnull=True,
                received_at__lt=cutoff,
            )
            .order_by("received_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return 0
        return events.filter(pk__in=ids, status=WebhookEvent.Status.PROCESSED).update(
            payload={}, payload_pruned_at=timezone.now()
        )


def prune_payloads(
    retention_days: int | None = None, batch: int | None = None, max_seconds: float = 60.0
) -> int:
    """Prune batch after batch until none is left or `max_seconds` pass; answer how many."""
    days = settings.WEBHOOK_PAYLOAD_RETENTION_DAYS if retention_days is None else retention_days
    if days <= 0:
        return 0  # retention switched off: keep every payload
    batch = batch or settings.WEBHOOK_PAYLOAD_PRUNE_BATCH
    cutoff = timezone.now() - dt.timedelta(days=days)
    deadline = time.monotonic() + max_seconds
    total = 0
    while time.monotonic() < deadline:
        done = prune_batch(cutoff, batch)
        total += done
        if done < batch:
            break
    if total:
        logger.info("pruned webhook payloads", extra={"events": total, "retention_days": days})
    return total


@shared_task(name="instantly.webhooks.prune.prune_webhook_payloads", ignore_result=True)
def prune_webhook_payloads() -> int:
    return prune_payloads()
