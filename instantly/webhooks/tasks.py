"""Celery tasks that process stored deliveries, and the sweeper that finds forgotten ones.

Publishing never raises into the caller: the receiver has already stored the delivery, so a dead
broker only means the row waits (pending) for the sweeper. After a failed publish the broker is
left alone for a few seconds, so an outage costs no connection timeout per delivery.

No task per delivery: the receiver only wakes a background thread, which at most every
WAKE_INTERVAL seconds sets one Redis key (`DRAIN_WANTED_KEY`, SET NX) and, only if the key was
not set already, publishes one `drain_webhook_events`. The drain deletes the key before it
claims, then claims everything pending in batches until nothing is left: a delivery committed
before the delete is claimed by this drain, one committed after it sets the key again and
wakes the next. So a steady stream costs one publish per drain, not per delivery, and batches
grow with the load instead of a worker paying a batch's fixed cost per event.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

import psycopg
import redis
from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils.dateparse import parse_datetime

from salesbrain.logs import log_context

from . import queue

logger = logging.getLogger("instantly.webhooks")

BROKER_RETRY_AFTER = 5.0  # seconds without publishing after a failed publish
# The receiver's thread wakes processing at most this often (per process). Each wake is a Redis
# round trip: at 2 ms, a loaded worker spent a twentieth of its time on them.
WAKE_INTERVAL = 0.005
# "A drain is queued": set by the waker, deleted by the drain when it starts. Expires so that a
# drain lost with its worker only delays the next one (the sweeper is the second net).
DRAIN_WANTED_KEY = "salesbrain:webhooks:drain-wanted"
DRAIN_WANTED_TTL_MS = 5_000
# A drain stops after this long and queues its successor, well inside its time limit.
DRAIN_BUDGET_SECONDS = settings.WEBHOOK_TASK_SOFT_TIME_LIMIT_SECONDS / 3
SWEEP_CHUNK = queue.BATCH_SIZE
# After a database error, try again once a claim this task may have made has gone stale.
DATABASE_RETRY_DELAY = int(queue.PROCESSING_TIMEOUT.total_seconds()) + 5
# Stopped (soft, then hard) before the claim goes stale: see settings.
TIME_LIMITS = {
    "time_limit": settings.WEBHOOK_TASK_TIME_LIMIT_SECONDS,
    "soft_time_limit": settings.WEBHOOK_TASK_SOFT_TIME_LIMIT_SECONDS,
}


@shared_task(
    name="instantly.webhooks.tasks.process_webhook_event", ignore_result=True, **TIME_LIMITS
)
def process_webhook_event(event_id: int) -> dict:
    """Process one delivery, and with it pending deliveries that arrived after it (a burst
    drains in batches; the tasks of events already taken find nothing to claim and return at
    once)."""
    with log_context(event_id=event_id):  # each event's own lines bind their own id
        try:
            report = queue.process_events([event_id], more=queue.BATCH_SIZE - 1, after=event_id)
        except (DatabaseError, psycopg.Error):
            return _database_error(process_webhook_event, (event_id,))
        schedule_retries(report.retries)
    return _summary(report)


@shared_task(
    name="instantly.webhooks.tasks.process_webhook_events", ignore_result=True, **TIME_LIMITS
)
def process_webhook_events(event_ids: list[int]) -> dict:
    """Process these deliveries (the receiver's publisher, the sweeper, reprocessing), and
    with them pending first attempts that arrived after the first: under a steady stream the
    publisher sends one id per message, and a worker that only took that one paid a batch's
    fixed cost per delivery (28/s on the 2-core bench machine, bench/feed_latency.py)."""
    ids = list(event_ids)
    more = max(queue.BATCH_SIZE - len(ids), 0)
    try:
        report = queue.process_events(ids, more=more, after=min(ids, default=1) - 1)
    except (DatabaseError, psycopg.Error):
        return _database_error(process_webhook_events, (ids,))
    schedule_retries(report.retries)
    return _summary(report)


@shared_task(
    name="instantly.webhooks.tasks.drain_webhook_events", ignore_result=True, **TIME_LIMITS
)
def drain_webhook_events() -> dict:
    """Process every pending first attempt, in batches, oldest first (woken by the receiver).

    Claims batches while they come back full, then returns: what arrives meanwhile has set
    the key again and queued the next drain, so other tasks (notification delivery, syncs)
    get a worker in between instead of waiting behind a drain that never ends. Two drains may
    run at once (one per worker process): their claims skip each other's rows.
    """
    _forget_drain_wanted()  # before claiming: see the module docstring
    report = queue.BatchReport()
    deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
    after = 0
    try:
        while True:
            batch = queue.process_events(more=queue.BATCH_SIZE, after=after)
            schedule_retries(batch.retries)
            report.add(batch)
            if batch.last_id is None or batch.claimed < queue.BATCH_SIZE:
                break
            after = batch.last_id
            if time.monotonic() > deadline:
                _publish(drain_webhook_events, ())  # more is waiting: the next drain
                break
    except (DatabaseError, psycopg.Error):
        return _database_error(drain_webhook_events, ())
    return _summary(report)


def _database_error(task, args: tuple) -> dict:
    """The database failed while claiming, or while recording a failure (the task is acked
    either way): ask for the same work again later. Rows it had claimed stay `processing`
    until their claim is stale, which the retry waits for; the sweeper is the second net."""
    logger.warning(
        "webhook task %s hit a database error; again in %ss", task.name, DATABASE_RETRY_DELAY,
        exc_info=True,
    )  # fmt: skip
    _publish(task, args, countdown=DATABASE_RETRY_DELAY)
    return {"database_error": True}


@shared_task(name="instantly.webhooks.tasks.sweep_webhook_events", ignore_result=True)
def sweep_webhook_events(now: dt.datetime | str | None = None) -> dict:
    """Enqueue again what is pending past its grace or retry delay, or stuck in processing."""
    if isinstance(now, str):
        now = parse_datetime(now)
    stranded = queue.find_stranded(now=now)
    enqueued = enqueue_events(stranded.ids)
    if stranded.ids or stranded.failed:
        logger.warning(
            "webhook sweeper: %s stranded events (%s enqueued), %s given up",
            len(stranded.ids),
            enqueued,
            stranded.failed,
        )
    return {"stranded": len(stranded.ids), "enqueued": enqueued, "failed": stranded.failed}


# --- publishing --------------------------------------------------------------------------------


class _Breaker:
    """Remembers a failed publish for BROKER_RETRY_AFTER seconds (process-local)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.closed_until = 0.0

    def allows(self) -> bool:
        return self.clock() >= self.closed_until

    def trip(self) -> None:
        self.closed_until = self.clock() + BROKER_RETRY_AFTER

    def reset(self) -> None:
        self.closed_until = 0.0


breaker = _Breaker()


def _publish(task, args: tuple, **options) -> bool:
    if not breaker.allows():
        return False
    try:
        task.apply_async(args, **options)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the row stays pending
        breaker.trip()
        logger.warning("broker unavailable, %s left for the sweeper: %r", task.name, exc)
        return False
    return True


class _Publisher:
    """Wakes processing from a background thread, for the deliveries stored since last time.

    The receiver's request only appends an id here (after commit) and answers: it never waits
    for Redis. The thread hands what piled up to `publish` (by default `wake_drain`, which
    ignores which ids they are: the drain claims whatever is pending), then rests
    `interval` seconds, so a busy process wakes processing at most every few milliseconds.
    Ids lost with the process (or refused by a dead broker) are still pending rows in
    PostgreSQL: the sweeper enqueues them again. One thread per process, started on first use
    (and again after a fork).
    """

    def __init__(
        self, publish: Callable[[list[int]], object] | None = None, interval: float = 0.0
    ) -> None:
        self._publish = publish or wake_drain
        self._interval = interval
        self._ids: list[int] = []
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, event_id: int) -> None:
        with self._lock:
            self._ids.append(event_id)
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="webhook-publisher", daemon=True
                )
                self._thread.start()
        self._wakeup.set()

    def flush(self) -> int:
        """Publish what is waiting, now (the thread's loop; tests; process exit)."""
        with self._lock:
            ids, self._ids = self._ids, []
        if ids:
            self._publish(ids)
        return len(ids)

    def _run(self) -> None:
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - never let the thread die; rows stay pending
                logger.exception("webhook publisher failed; the sweeper will enqueue the rows")
            if self._interval:
                time.sleep(self._interval)


_redis_clients: dict[tuple[int, str], redis.Redis] = {}


def _redis() -> redis.Redis:
    """A client for the broker's Redis, the one tasks are published to (one per process and
    URL: never shared across a fork)."""
    url = process_webhook_event.app.conf.broker_url or ""
    key = (os.getpid(), url)
    client = _redis_clients.get(key)
    if client is None:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise redis.ConnectionError(f"the broker is not Redis: {url.split(':')[0]!r}")
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        _redis_clients.clear()
        _redis_clients[key] = client
    return client


def wake_drain(event_ids: Iterable[int] = ()) -> bool:
    """Make sure a drain is queued: publish one unless one is already (never raises)."""
    if not breaker.allows():
        return False
    try:
        wanted = _redis().set(DRAIN_WANTED_KEY, "1", nx=True, px=DRAIN_WANTED_TTL_MS)
    except redis.RedisError as exc:
        breaker.trip()
        logger.warning("broker unavailable, pending deliveries left for the sweeper: %r", exc)
        return False
    if not wanted:
        return True  # a drain is queued and has not started: it will claim these too
    if _publish(drain_webhook_events, ()):
        return True
    _forget_drain_wanted()  # nothing queued after all: let the next delivery try again
    return False


def _forget_drain_wanted() -> None:
    if process_webhook_event.app.conf.task_always_eager:
        return  # no broker: nothing was ever set
    try:
        _redis().delete(DRAIN_WANTED_KEY)
    except redis.RedisError:
        logger.warning("could not clear %s; it expires by itself", DRAIN_WANTED_KEY)


publisher = _Publisher(interval=WAKE_INTERVAL)
atexit.register(publisher.flush)


def enqueue_event(event_id: int) -> None:
    """Have a stored delivery processed (called after commit; never raises).

    With a broker the background thread wakes a drain; with none (development, tests) the
    task runs here and now, in-process.
    """
    if process_webhook_event.app.conf.task_always_eager:
        _publish(process_webhook_event, (event_id,))
    else:
        publisher.submit(event_id)


def enqueue_events(event_ids: Iterable[int]) -> int:
    """Enqueue deliveries in chunks; answer how many were handed to the broker."""
    ids = list(event_ids)
    sent = 0
    for start in range(0, len(ids), SWEEP_CHUNK):
        chunk = ids[start : start + SWEEP_CHUNK]
        if _publish(process_webhook_events, (chunk,)):
            sent += len(chunk)
    return sent


def schedule_retries(retries: Iterable[tuple[int, int]]) -> None:
    for event_id, delay in retries:
        _publish(process_webhook_events, ([event_id],), countdown=delay)


def _summary(report: queue.BatchReport) -> dict:
    return {
        "processed": report.processed,
        "ignored": report.ignored,
        "failed": report.failed,
        "retrying": len(report.retries),
    }
