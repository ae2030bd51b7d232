"""What Prometheus and the readiness probe learn from the Instantly tables.

Registered by `InstantlyConfig.ready()` with the project base's hooks (`salesbrain.metrics.
on_scrape`, `salesbrain.health.register_readiness_check`), which import no app: the base never
knows these tables. The numbers are the status page's (`instantly.status`), so the page, the
gauges and the probe never disagree.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from instantly import status
from instantly.models import ProviderConnection
from salesbrain import health, metrics


def backlog(now: dt.datetime | None = None) -> metrics.Backlog:
    current = status.processing_state(now)
    return metrics.Backlog(
        pending=current.pending + current.processing,
        oldest_pending_seconds=current.lag_seconds,
        failed=current.failed,
    )


def connection_states(now: dt.datetime | None = None) -> list[metrics.ConnectionState]:
    return [
        metrics.ConnectionState(
            name=state.connection.name,
            up=state.connection.status == ProviderConnection.Status.ACTIVE,
            last_sync_timestamp=_timestamp(state.connection.last_synced_at),
            last_delivery_timestamp=_timestamp(state.last_delivery_at),
            subscription_disabled=state.subscription_disabled,
        )
        for state in status.connection_states(now)
    ]


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
    metrics.on_scrape("webhook_backlog", lambda: metrics.backlog_metrics(backlog()))
    metrics.on_scrape("connections", lambda: metrics.connection_metrics(connection_states()))
    health.register_readiness_check("processing_lag", processing_lag_check)
