"""Every Prometheus metric Salesbrain exports, defined once, here.

Call sites import the metric they move (`metrics.WEBHOOK_DELIVERIES.labels(outcome=...).inc()`);
this module imports no app. Values that are a fact about the database rather than a count of
things that happened (the webhook backlog, the last sync of each connection) are computed when
Prometheus scrapes: the app that owns those tables registers a source with `on_scrape`.

Under gunicorn and Celery's prefork pool every process counts on its own; with
`PROMETHEUS_MULTIPROC_DIR` set (a directory emptied when the server starts, see
`gunicorn.conf.py` and `salesbrain.celery`) the processes write their values to files there and
a scrape adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

# `*_created` series double the output and nothing here reads them.
disable_created_metrics()
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Metrics open their files as they are defined, below: the directory must exist first.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Seconds; from a fast page to a slow export, and Instantly's slowest full syncs.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
SYNC_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

# --- the webhook receiver and processing -------------------------------------------------------

DELIVERY_OUTCOMES = ("stored", "duplicate", "ignored", "unauthorized", "rejected", "failed")
WEBHOOK_DELIVERIES = Counter(
    "salesbrain_webhook_deliveries",
    "Webhook deliveries received, by what the receiver did: stored, duplicate, ignored (stored, "
    "nothing to do), unauthorized (401), rejected (400/413), failed (503).",
    ["outcome"],
)
WEBHOOK_STORE_GROUP_SIZE = Histogram(
    "salesbrain_webhook_store_group_size",
    "Deliveries sent in one statement of the receiver (instantly.webhooks.group_store): its "
    "count is the number of statements, its sum the deliveries they carried (a failed group "
    "retried one by one counts again).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
EVENTS_PROCESSED = Counter(
    "salesbrain_events_processed",
    "Stored webhook events processed, by normalised type and outcome (processed, ignored, "
    "retrying, failed).",
    ["event_type", "outcome"],
)
EVENT_BATCH_SECONDS = Histogram(
    "salesbrain_event_processing_seconds",
    "Time to apply one claimed batch of webhook events.",
    buckets=BATCH_BUCKETS,
)
EVENT_LAG_SECONDS = Histogram(
    "salesbrain_event_lag_seconds",
    "From a delivery's receipt to the end of its processing.",
    buckets=LAG_BUCKETS,
)

# --- Instantly's API and syncs -----------------------------------------------------------------

INSTANTLY_REQUESTS = Counter(
    "salesbrain_instantly_requests",
    "Requests sent to Instantly's API, by path template (never a raw URL) and HTTP status "
    "(`error` when no answer came).",
    ["endpoint", "status"],
)
SYNC_SECONDS = Histogram(
    "salesbrain_sync_duration_seconds",
    "Duration of a workspace sync, by connection name.",
    ["connection"],
    buckets=SYNC_BUCKETS,
)
SYNCS = Counter(
    "salesbrain_syncs",
    "Workspace syncs finished, by connection name and outcome (ok, failed).",
    ["connection", "outcome"],
)

# --- HTTP and the database ---------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "salesbrain_http_requests",
    "HTTP requests answered, by URL name, method and status code.",
    ["view", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "salesbrain_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL name.",
    ["view"],
    buckets=REQUEST_BUCKETS,
)
DB_QUERIES = Counter(
    "salesbrain_db_queries",
    "Database queries sent, by what sent them (URL name of a request, Celery task name, other).",
    ["source"],
)

# --- operations ----------------------------------------------------------------------------------

BACKUPS = Counter(
    "salesbrain_backups",
    "Database backups attempted, by outcome (ok, failed).",
    ["outcome"],
)

# Series of a known set of labels exist from the start, at 0: an alert on `increase()` sees
# the first one, and a scrape lists every name.
for _outcome in DELIVERY_OUTCOMES:
    WEBHOOK_DELIVERIES.labels(outcome=_outcome)
for _outcome in ("ok", "failed"):
    BACKUPS.labels(outcome=_outcome)

# --- values computed when Prometheus scrapes -----------------------------------------------------

WEBHOOK_PENDING = "salesbrain_webhook_pending"
WEBHOOK_OLDEST_PENDING = "salesbrain_webhook_oldest_pending_seconds"
WEBHOOK_FAILED = "salesbrain_webhook_failed"
CONNECTION_LAST_SYNC = "salesbrain_connection_last_sync_timestamp_seconds"
CONNECTION_UP = "salesbrain_connection_up"
LAST_DELIVERY = "salesbrain_webhook_last_delivery_timestamp_seconds"
SUBSCRIPTION_DISABLED = "salesbrain_webhook_subscription_disabled"


@dataclass(frozen=True)
class Backlog:
    """The webhook processing backlog, as the database sees it now."""

    pending: int
    oldest_pending_seconds: float
    failed: int


@dataclass(frozen=True)
class ConnectionState:
    """One Instantly connection, as the database sees it now."""

    name: str
    up: bool
    last_sync_timestamp: float | None
    last_delivery_timestamp: float | None
    subscription_disabled: bool


def backlog_metrics(backlog: Backlog) -> list[Metric]:
    return [
        GaugeMetricFamily(
            WEBHOOK_PENDING,
            "Webhook events stored and waiting to be processed (pending or processing).",
            value=backlog.pending,
        ),
        GaugeMetricFamily(
            WEBHOOK_OLDEST_PENDING,
            "Age of the oldest webhook event waiting to be processed (0 when none waits): "
            "the processing lag.",
            value=backlog.oldest_pending_seconds,
        ),
        GaugeMetricFamily(
            WEBHOOK_FAILED,
            "Webhook events that gave up after every retry and wait for staff.",
            value=backlog.failed,
        ),
    ]


def connection_metrics(states: Iterable[ConnectionState]) -> list[Metric]:
    up = GaugeMetricFamily(
        CONNECTION_UP,
        "1 when the connection's last sync or check succeeded.",
        labels=["connection"],
    )
    synced = GaugeMetricFamily(
        CONNECTION_LAST_SYNC,
        "Unix time of the connection's last successful sync.",
        labels=["connection"],
    )
    delivered = GaugeMetricFamily(
        LAST_DELIVERY,
        "Unix time of the last webhook delivery stored for it.",
        labels=["connection"],
    )
    disabled = GaugeMetricFamily(
        SUBSCRIPTION_DISABLED,
        "1 when Instantly reported the connection's webhook subscription disabled.",
        labels=["connection"],
    )
    for state in states:
        up.add_metric([state.name], 1.0 if state.up else 0.0)
        disabled.add_metric([state.name], 1.0 if state.subscription_disabled else 0.0)
        if state.last_sync_timestamp is not None:
            synced.add_metric([state.name], state.last_sync_timestamp)
        if state.last_delivery_timestamp is not None:
            delivered.add_metric([state.name], state.last_delivery_timestamp)
    return [up, synced, delivered, disabled]


ScrapeSource = Callable[[], Iterable[Metric]]
_scrape_sources: dict[str, ScrapeSource] = {}


def on_scrape(name: str, source: ScrapeSource) -> None:
    """Register `source` to compute metrics at every scrape (by name: registering again
    replaces, so an app's `ready()` may run twice)."""
    _scrape_sources[name] = source


class _ScrapeTimeCollector:
    """Runs the registered sources; one that fails is logged and left out, never fatal."""

    def collect(self) -> Iterator[Metric]:
        for name, source in list(_scrape_sources.items()):
            try:
                yield from list(source())
            except Exception:  # noqa: BLE001 - a scrape reports what it can
                logger.exception("metrics source %s failed", name)


_scrape_registry = CollectorRegistry(auto_describe=False)
_scrape_registry.register(_ScrapeTimeCollector())


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def counted_registry() -> CollectorRegistry:
    """The registry holding every count: this process's, or all processes' files."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition(*, scrape_time: bool = True) -> bytes:
    """The text Prometheus scrapes: counts, then the values computed now (by the web
    process only: the worker's exporter would repeat them)."""
    text = generate_latest(counted_registry())
    return text + generate_latest(_scrape_registry) if scrape_time else text


def scrape_refusal(*, token: str, authorization: str, remote_addr: str) -> tuple[int, str] | None:
    """Why this caller may not scrape (status, reason), or None: with a token configured the
    caller must present it (`Bearer`); without one, only loopback callers may."""
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return 401, "metrics need a bearer token"
    try:
        if ipaddress.ip_address(remote_addr).is_loopback:
            return None
    except ValueError:
        pass
    return 403, "metrics are served to loopback only; set METRICS_TOKEN to scrape remotely"


def prepare_multiprocess_dir() -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR (create it if missing): run once when the server starts,
    before any process counts, or counts of a previous run would be added up again."""
    path = multiprocess_dir()
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for entry in os.scandir(path):
        if entry.is_file() and entry.name.endswith(".db"):
            os.unlink(entry.path)


def process_exited(pid: int) -> None:
    """Tell multiprocess mode a worker process is gone (gunicorn's child_exit, Celery's
    worker_process_shutdown)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)
