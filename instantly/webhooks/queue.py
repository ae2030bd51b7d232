"""The webhook work queue: claim stored deliveries, apply them in batches, retry, sweep.

Work is claimed with a conditional UPDATE (`status = 'pending'`, or `processing` left behind by a
worker that died) in its own short transaction, then a whole batch is applied (`apply.Batch`) in
`staff_scope()` transactions: processing crosses organizations and sees the shared workspace.
If the batch fails, each event is retried alone so one bad delivery cannot hold back the rest;
an event that keeps failing goes back to `pending` with a growing delay, then ends `failed`.
The sweeper finds rows nobody picked up, `tasks` enqueues them, `reprocess` puts finished ones
back in the queue.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.alert_delivery import enqueue_alert_delivery
from instantly.models import Alert, WebhookEvent
from messaging.tasks import enqueue_delivery
from salesbrain import bulk, metrics
from salesbrain.logs import log_context

from .apply import Batch, Outcome, StoredEvent

logger = logging.getLogger("instantly.webhooks")

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
# Wait before attempt n+1 after attempt n failed (n = 1..MAX_ATTEMPTS-1), in seconds.
RETRY_DELAYS = (30, 120, 600, 1800)
# A row still `processing` this long after its claim belongs to a worker that died (or lost the
# database before it could record the outcome); see settings.WEBHOOK_CLAIM_TIMEOUT_SECONDS.
PROCESSING_TIMEOUT = dt.timedelta(seconds=settings.WEBHOOK_CLAIM_TIMEOUT_SECONDS)
# The sweeper leaves a fresh pending row to the task enqueued with it for this long.
PENDING_GRACE = dt.timedelta(minutes=1)

Status = WebhookEvent.Status

# --- claiming ----------------------------------------------------------------------------------

_RETURNING = (
    "id, connection_id, organization_id, payload, event_type, received_at, attempts, request_id"
)
_CLAIM_IDS = f"""
    UPDATE instantly_webhookevent
       SET status = 'processing', attempts = attempts + 1, claimed_at = %(now)s
     WHERE id = ANY(%(ids)b::bigint[])
       AND (status = 'pending' OR (status = 'processing' AND claimed_at < %(stale)s))
 RETURNING {_RETURNING}
"""  # noqa: S608
# Only first attempts are picked up alongside: a retry waits for its own delay. Rows are taken
# in id (= arrival) order after a given id: a range on the primary key stays a short index scan
# however large the table, whereas the row-level security filter hides from the planner how
# selective `status = 'pending'` is.
# The pick is a materialized CTE: as a plain `IN (subquery)` the planner may run the subquery
# again for each row (a nested loop over the partial index), and with SKIP LOCKED each run
# picks the next rows, so one claim could take far more than `limit`.
_CLAIM_MORE = f"""
    WITH picked AS MATERIALIZED (
        SELECT id FROM instantly_webhookevent
         WHERE status = 'pending' AND attempts = 0 AND id > %(after)s
         ORDER BY id LIMIT %(limit)s
           FOR UPDATE SKIP LOCKED
    )
    UPDATE instantly_webhookevent
       SET status = 'processing', attempts = attempts + 1, claimed_at = %(now)s
     WHERE id IN (SELECT id FROM picked)
       AND status = 'pending'
 RETURNING {_RETURNING}
"""  # noqa: S608


@dataclass
class ClaimedEvent(StoredEvent):
    """A delivery this worker now owns (status `processing`)."""

    event_type: str
    attempts: int
    request_id: str = ""  # of the request that delivered it: its processing lines carry it


def claim_events(
    ids: list[int] | None = None,
    *,
    more: int = 0,
    after: int = 0,
    now: dt.datetime | None = None,
) -> list[ClaimedEvent]:
    """Claim the given events (if pending, or abandoned mid-processing) and up to `more`
    other pending first attempts with an id above `after`, oldest first. Commits before
    returning."""
    now = now or timezone.now()
    rows: list[tuple] = []
    with staff_scope():
        _commit_without_waiting_for_disk()
        if ids:
            params = {"ids": list(ids), "now": now, "stale": now - PROCESSING_TIMEOUT}
            rows.extend(bulk.execute(_CLAIM_IDS, params))
        if more > 0:
            params = {"limit": more, "after": after, "now": now}
            rows.extend(bulk.execute(_CLAIM_MORE, params))
    return [
        ClaimedEvent(
            id=row[0],
            connection_id=row[1],
            organization_id=row[2],
            payload=json.loads(row[3]) if isinstance(row[3], str) else row[3],
            event_type=row[4],
            received_at=row[5],
            attempts=row[6],
            request_id=row[7],
        )
        for row in rows
    ]


# --- processing a batch ------------------------------------------------------------------------


@dataclass
class BatchReport:
    """What one call did; `retries` are (event id, seconds to wait) to schedule."""

    processed: int = 0
    ignored: int = 0
    failed: int = 0
    retries: list[tuple[int, int]] = field(default_factory=list)
    last_id: int | None = None  # highest event id claimed
    claimed: int = 0  # how many events the call claimed

    def add(self, other: BatchReport) -> None:
        self.processed += other.processed
        self.ignored += other.ignored
        self.failed += other.failed
        self.retries.extend(other.retries)

    @property
    def total(self) -> int:
        return self.processed + self.ignored + self.failed + len(self.retries)


def process_events(
    ids: list[int] | None = None,
    *,
    more: int = 0,
    after: int = 0,
    now: dt.datetime | None = None,
) -> BatchReport:
    """Claim and process: the body of the Celery tasks."""
    now = now or timezone.now()
    events = claim_events(ids, more=more, after=after, now=now)
    report = process_claimed(events, now=now)
    report.last_id = max((event.id for event in events), default=None)
    report.claimed = len(events)
    return report


def drain(*, batch_size: int = BATCH_SIZE, now: dt.datetime | None = None) -> BatchReport:
    """Process pending first attempts until none is left (benchmarks, management commands).

    Walks forward by id, then makes one more pass from the start for anything skipped.
    """
    report = BatchReport()
    after = 0
    while True:
        batch = process_events(more=batch_size, after=after, now=now)
        report.add(batch)
        if batch.last_id is not None:
            after = batch.last_id
        elif after:
            after = 0
        else:
            return report


def process_claimed(events: list[ClaimedEvent], *, now: dt.datetime) -> BatchReport:
    """Apply a claimed batch in one transaction; on error, each event alone."""
    report = BatchReport()
    if not events:
        return report
    started = time.monotonic()
    try:
        batch = Batch(events, now)
        with staff_scope():
            _commit_without_waiting_for_disk()
            batch.resolve()
        with staff_scope():
            _commit_without_waiting_for_disk()
            outcomes = batch.record()
            # When the batch was applied, on the batch's clock (`now` is its start).
            _finish(outcomes, now + dt.timedelta(seconds=time.monotonic() - started))
            # One publish per batch, after commit: the delivery task reads committed rows.
            transaction.on_commit(lambda: _announce(batch), robust=True)
    except Exception as exc:  # noqa: BLE001 - whatever broke, isolate it and retry later
        if len(events) > 1:
            logger.warning(
                "webhook batch of %s failed (%r); retrying one by one",
                len(events),
                exc,
                extra={"event_ids": [event.id for event in events]},
            )
            for event in events:
                report.add(process_claimed([event], now=now))
            return report
        with _event_context(events[0]):
            return _record_failure(events[0], exc, now)
    metrics.EVENT_BATCH_SECONDS.observe(time.monotonic() - started)
    done = timezone.now()
    for event in events:
        outcome = outcomes[event.id]
        metrics.EVENTS_PROCESSED.labels(outcome.event_type, outcome.status).inc()
        metrics.EVENT_LAG_SECONDS.observe(max((done - event.received_at).total_seconds(), 0.0))
        with _event_context(event):
            logger.info(
                "webhook event %s %s (%s): %s%s",
                event.id,
                outcome.event_type,
                event.payload.get("event_type"),
                outcome.status,
                f" - {outcome.detail}" if outcome.detail else "",
            )
        if outcome.status == Status.IGNORED:
            report.ignored += 1
        else:
            report.processed += 1
    return report


def _announce(batch: Batch) -> None:
    """Hand the batch's news to delivery: customers' notifications, staff alerts."""
    enqueue_delivery(batch.notified_organizations)
    if batch.raised_alerts:
        enqueue_alert_delivery()


def _event_context(event: ClaimedEvent):
    """Log lines about one event: its id, and the id of the request that delivered it."""
    return log_context(event_id=event.id, request_id=event.request_id or None)


def _commit_without_waiting_for_disk() -> None:
    """Processing transactions need not wait for the WAL flush: a commit lost in a database
    crash only leaves its events pending or processing, and they are processed again
    (idempotently). The receiver, which stores deliveries, keeps waiting: that is durability."""
    bulk.execute("SET LOCAL synchronous_commit TO off")


def _finish(outcomes: dict[int, Outcome], now: dt.datetime) -> None:
    rows = [(pk, o.status, o.event_type, o.detail[:2000]) for pk, o in sorted(outcomes.items())]
    ids = [row[0] for row in rows]
    bulk.execute(
        "UPDATE instantly_webhookevent e SET status = v.status, event_type = v.event_type, "
        "last_error = v.detail, processed_at = %s "
        "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[]) "
        "AS v(id, status, event_type, detail) "
        "WHERE e.id = v.id AND e.id = ANY(%b::bigint[]) AND e.status = 'processing'",
        [now, *bulk.columns(rows, 4), ids],
    )


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def _record_failure(event: ClaimedEvent, exc: Exception, now: dt.datetime) -> BatchReport:
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    report = BatchReport()
    final = event.attempts >= MAX_ATTEMPTS
    with staff_scope():
        WebhookEvent.objects.unscoped().filter(pk=event.id, status=Status.PROCESSING).update(
            status=Status.FAILED if final else Status.PENDING, last_error=error
        )
        if final:
            bulk.insert_rows(
                Alert,
                [
                    {
                        "organization_id": event.organization_id,
                        "kind": Alert.Kind.WEBHOOK_FAILED,
                        "title": f"Webhook event #{event.id} failed {event.attempts} times",
                        "message": error,
                        "connection_id": event.connection_id,
                        "source_event_id": event.id,
                        "created_at": now,
                    }
                ],
            )
    metrics.EVENTS_PROCESSED.labels(event.event_type, "failed" if final else "retrying").inc()
    if final:
        logger.error("webhook event %s failed for good: %s", event.id, error)
        report.failed += 1
    else:
        delay = retry_delay(event.attempts)
        logger.warning(
            "webhook event %s failed (attempt %s), retry in %ss: %s",
            event.id,
            event.attempts,
            delay,
            error,
        )
        report.retries.append((event.id, delay))
    return report


# --- sweeping ----------------------------------------------------------------------------------


@dataclass
class Stranded:
    """Rows the sweeper must enqueue again, and rows it gave up on."""

    ids: list[int] = field(default_factory=list)
    failed: int = 0


def find_stranded(*, now: dt.datetime | None = None, limit: int = 10_000) -> Stranded:
    """Pending rows nobody picked up (broker down, task lost) past their grace or retry delay,
    and rows left `processing` by a dead worker. Abandoned rows out of attempts become failed."""
    now = now or timezone.now()
    result = Stranded()
    with staff_scope():
        rows = WebhookEvent.objects.unscoped()
        due = _pending_due(now)
        pending = rows.filter(due, status=Status.PENDING).order_by("received_at")
        result.ids.extend(pending.values_list("id", flat=True)[:limit])
        abandoned = rows.filter(status=Status.PROCESSING, claimed_at__lt=now - PROCESSING_TIMEOUT)
        result.failed = abandoned.filter(attempts__gte=MAX_ATTEMPTS).update(
            status=Status.FAILED, last_error="worker lost while processing, attempts exhausted"
        )
        result.ids.extend(abandoned.values_list("id", flat=True)[:limit])
    return result


def _pending_due(now: dt.datetime) -> Q:
    due = Q(attempts=0, received_at__lt=now - PENDING_GRACE)
    for attempts in range(1, MAX_ATTEMPTS):
        due |= Q(
            attempts=attempts, claimed_at__lt=now - dt.timedelta(seconds=retry_delay(attempts))
        )
    # Reset by hand with attempts left as they were: due at once.
    due |= Q(attempts__gte=MAX_ATTEMPTS, received_at__lt=now - PENDING_GRACE)
    return due
