"""What Prometheus and the readiness probe learn from the Instantly tables.

Registered by `InstantlyConfig.ready()` with the project base's hooks (`salesbrain.metrics.
on_scrape`, `salesbrain.health.register_readiness_check`), which import no app: the base never
knows these tables. Every query here is bounded by an index, since it runs at every scrape.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.models import ProviderConnection, WebhookEvent
from salesbrain import metrics

WAITING = (WebhookEvent.Status.PENDING, WebhookEvent.Status.PROCESSING)
# How far back "last delivery" looks: bounded, so a silent connection costs one short scan.
LAST_DELIVERY_WINDOW = dt.timedelta(days=7)


def backlog(now: dt.datetime | None = None) -> metrics.Backlog:
    now = now or timezone.now()
    with staff_scope():
        events = WebhookEvent.objects.unscoped()
        waiting = events.filter(status__in=WAITING).aggregate(
            n=Count("id"), oldest=Min("received_at")
        )
        failed = events.filter(status=WebhookEvent.Status.FAILED).count()
    oldest = waiting["oldest"]
    lag = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return metrics.Backlog(pending=waiting["n"], oldest_pending_seconds=lag, failed=failed)


def connection_states(now: dt.datetime | None = None) -> list[metrics.ConnectionState]:
    now = now or timezone.now()
    states = []
    with staff_scope():
        for connection in ProviderConnection.objects.unscoped().order_by("name"):
            last = (
                WebhookEvent.objects.unscoped()
                .filter(connection=connection, received_at__gte=now - LAST_DELIVERY_WINDOW)
                .order_by("-received_at")
                .values_list("received_at", flat=True)
                .first()
            )
            states.append(
                metrics.ConnectionState(
                    name=connection.name,
                    up=connection.status == ProviderConnection.Status.ACTIVE,
                    last_sync_timestamp=_timestamp(connection.last_synced_at),
                    last_delivery_timestamp=_timestamp(last),
                    subscription_disabled=False,
                )
            )
    return states


def processing_lag_check() -> dict:
    """Readiness: the oldest waiting event is younger than READINESS_MAX_LAG_SECONDS."""
    current = backlog()
    limit = settings.READINESS_MAX_LAG_SECONDS
    return {
        "ok": current.oldest_pending_seconds < limit,
        "pending": current.pending,
        "oldest_pending_seconds": round(current.oldest_pending_seconds, 1),
        "limit_seconds": limit,
    }


def _timestamp(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value else None


def register() -> None:
    from salesbrain import health

    metrics.on_scrape("webhook_backlog", lambda: metrics.backlog_metrics(backlog()))
    metrics.on_scrape("connections", lambda: metrics.connection_metrics(connection_states()))
    health.register_readiness_check("processing_lag", processing_lag_check)
