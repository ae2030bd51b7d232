"""Storing deliveries in groups: one statement and one commit for every delivery a worker process
received while its last group was being written (group commit, leader and followers).

Why: a delivery's own work in PostgreSQL is small (one indexed lookup, one row); what made the
receiver slow was the cost around it, paid once per delivery: a statement, a commit, a
connection borrowed from the pool and reset on return (`bench/webhook_ingest.py` measured the
pool alone at a quarter of the receiver's throughput). Grouped, those are paid once per group.

How: a request thread puts its delivery in the process's queue. If no group is being written,
it becomes the leader: it takes everything queued, writes it with one call of
`sb_store_webhook_deliveries` (migration instantly 0014) and answers every delivery of the
group. Otherwise it waits; deliveries that arrive while a group is written form the next
group, whose first member leads it. Nothing waits for a timer: a lone delivery is written at
once, as a group of one. Every delivery's answer still comes after its row is committed, and
a group's rows are written in the one order every writer uses (see 0014), so groups written
by different processes at once never deadlock.

A group whose statement fails is written again one delivery at a time, so one delivery the
database refuses costs the others nothing; a delivery that fails alone fails its request (503,
and Instantly sends it again).

The statement runs on a connection of the writer's own (`OwnConnection`), in autocommit, used
for nothing else: no pool to borrow from, nothing to reset, no tenant scope to set (the
function signs its own and puts it back). Tests run it on the request's connection instead
(`INSTANTLY_WEBHOOK_OWN_CONNECTION` off), inside their transaction.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import django.db
import psycopg
from django.conf import settings
from django.db import DatabaseError, connections, transaction

from salesbrain import bulk, metrics

logger = logging.getLogger("instantly.webhooks")

# The function's arguments, in order: one array per column (see `DeliveryRow`).
_STORE_SQL = (
    "SELECT ordinal, connection_id, organization_id, event_id FROM sb_store_webhook_deliveries("
    "%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], "
    "%b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[], %b::text[])"
)


class DeliveryRow(NamedTuple):
    """One delivery as the function takes it (the payload as its canonical JSON text). The
    fields are in the function's argument order: a group's rows, zipped, are its arrays."""

    secret_digest: str
    payload: str
    event_type_raw: str
    event_type: str
    dedupe_key: str
    campaign_instantly_id: str
    occurred_at: Any
    received_at: Any
    status: str
    last_error: str
    request_id: str


@dataclass(frozen=True)
class Written:
    """What the database did with one delivery: its connection and organization, and its new
    row's id (None: a duplicate). A delivery no connection's secret matches has no Written."""

    connection_id: Any
    organization_id: Any
    event_id: int | None


class StoreFailed(DatabaseError):
    """The database did not store this delivery (the receiver answers 503)."""


# Errors that say the database cannot be reached or gave up waiting (a statement timeout is a
# psycopg OperationalError), whichever layer raised them.
_UNAVAILABLE = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    django.db.OperationalError,
    django.db.InterfaceError,
)


Execute = Callable[[str, Sequence[Any]], list[tuple]]


def write_rows(execute: Execute, rows: Sequence[DeliveryRow]) -> list[Written | None]:
    """Store rows with one statement; answer, per row in order, what was written (None: no
    connection has its secret)."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    answered = {
        ordinal: Written(connection_id, organization_id, event_id)
        for ordinal, connection_id, organization_id, event_id in execute(_STORE_SQL, columns)
    }
    return [answered.get(position) for position in range(1, len(rows) + 1)]


class _Slot:
    """One request's place in the queue: its row, and then its answer or its error."""

    __slots__ = ("row", "ready", "leads", "answered", "written", "error")

    def __init__(self, row: DeliveryRow):
        self.row = row
        # Held until the slot is answered or made leader: a bare lock is the cheapest thing a
        # thread can block on (an Event is a Condition, written in Python).
        self.ready = threading.Lock()
        self.ready.acquire()
        self.leads = False
        self.answered = False
        self.written: Written | None = None
        self.error: BaseException | None = None

    def answer(self, written: Written | None = None, error: BaseException | None = None):
        self.written, self.error, self.answered = written, error, True


class GroupWriter:
    """A process's queue of deliveries to store, written a group at a time (see the module)."""

    def __init__(self, execute: Callable[[], Execute]):
        # Called by each leader for the statement's executor (the connection can differ by
        # thread: the request's own, in tests).
        self._executor = execute
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._writing = False

    def store(self, row: DeliveryRow) -> Written | None:
        """Store one delivery, committed when this returns; None if no connection has its
        secret. Raises StoreFailed if the database did not store it."""
        slot = _Slot(row)
        with self._lock:
            self._queue.append(slot)
            slot.leads = not self._writing
            self._writing = True
        if not slot.leads:
            slot.ready.acquire()  # answered, or made the next group's leader
        if slot.leads:
            self._write_next_group()
        if slot.error is not None:
            raise StoreFailed("could not store the delivery") from slot.error
        return slot.written

    def _write_next_group(self) -> None:
        with self._lock:
            group, self._queue = self._queue, []
        try:
            self._write(group)
        except BaseException as exc:
            # A fault of our own, not the database's: every request of the group still gets
            # an answer (503), none is told its secret is unknown.
            for slot in group:
                if not slot.answered:
                    slot.answer(error=exc)
            if not isinstance(exc, Exception):
                raise
            logger.exception("could not write a group of %d deliveries", len(group))
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._writing = successor is not None
            for slot in group:
                if not slot.leads:
                    slot.ready.release()
            if successor is not None:
                successor.leads = True
                successor.ready.release()

    def _write(self, group: list[_Slot]) -> None:
        """Answer every slot of the group: what was written, or why not."""
        metrics.WEBHOOK_STORE_GROUP_SIZE.observe(len(group))
        try:
            results = write_rows(self._executor(), [slot.row for slot in group])
        except _UNAVAILABLE as exc:
            # The database, not a delivery: writing them one by one would only wait N times.
            for slot in group:
                slot.answer(error=exc)
            return
        except Exception as exc:  # noqa: BLE001 - one delivery's fault must not fail the others
            if len(group) == 1:
                group[0].answer(error=exc)
                return
            logger.warning("a group of %d deliveries failed; storing them one by one", len(group))
            for slot in group:
                self._write([slot])
            return
        for slot, written in zip(group, results, strict=True):
            slot.answer(written)

    def _after_fork(self) -> None:
        """A forked child starts with an empty queue: a parent's group in progress at the
        fork has no leader in the child."""
        self._lock = threading.Lock()
        self._queue = []
        self._writing = False


class OwnConnection:
    """The writer's own database connection (the application role, autocommit), opened on
    first use in each process and opened again after it breaks.

    A connection that had been idle may have been closed meanwhile (a database restart, a
    proxy's idle timeout): the statement is then sent once more on a new connection. That is
    safe even if the first one was committed before the answer was lost: the second finds
    the rows there and stores nothing twice (`ON CONFLICT DO NOTHING`)."""

    def __init__(self):
        self._connection: psycopg.Connection | None = None
        self._pid = 0

    def execute(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        reused = self._usable()
        try:
            return self._execute(sql, params)
        except psycopg.OperationalError:
            if not reused or self._connection is not None:
                raise  # a new connection failed, or this one still works (a timeout, say)
            logger.warning("the receiver's database connection broke; opening another")
            return self._execute(sql, params)

    def _execute(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        connection = self._connect()
        try:
            with psycopg.Cursor(connection) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        except psycopg.Error:
            if (
                connection.closed
                or connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
            ):
                self.close()  # broken: the next statement opens another
            raise

    def _usable(self) -> bool:
        return (
            self._connection is not None
            and self._pid == os.getpid()
            and not self._connection.closed
        )

    def _connect(self) -> psycopg.Connection:
        if self._usable():
            return self._connection
        params = connections["default"].get_connection_params()
        params.pop("cursor_factory", None)
        self._connection = psycopg.connect(**_bounded(params), autocommit=True)
        self._pid = os.getpid()  # a forked child never writes on its parent's connection
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            connection.close()


# Nothing on this connection may wait for long: every delivery of the process waits with it.
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 10_000


def _bounded(params: dict) -> dict:
    """Connection parameters with time limits: to connect, per statement, and TCP keepalives so
    a connection a network dropped silently is noticed in about a minute, not at TCP's own
    timeout (configured values win)."""
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} {params.get('options', '')}"
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        **params,
        "options": options.strip(),
    }


own_connection = OwnConnection()


def after_commit(action: Callable[[], Any]) -> None:
    """Run `action` once what `writer.store` just stored is committed (it never raises).

    On the writer's own connection it is committed already: run it now. Asking Django
    (`transaction.on_commit`) would borrow a pooled connection only to learn that the request
    is in autocommit, and pay its reset when the request ends."""
    if settings.INSTANTLY_WEBHOOK_OWN_CONNECTION:
        try:
            action()
        except Exception:
            logger.exception("an action after storing a delivery failed")
    else:
        transaction.on_commit(action, robust=True)


def _executor() -> Execute:
    if settings.INSTANTLY_WEBHOOK_OWN_CONNECTION:
        return own_connection.execute
    return bulk.execute


writer = GroupWriter(_executor)
os.register_at_fork(after_in_child=writer._after_fork)
