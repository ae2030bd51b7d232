"""Server-Sent Events for the live feed: one PostgreSQL listener per process, many streams.

Each server process (an ASGI worker's event loop) keeps one connection that `LISTEN`s on
`feed.FEED_CHANNEL`. A notification names a new `FeedEvent` row and is delivered only after
its transaction committed. The broadcaster gathers what arrived in a few milliseconds, reads
those rows once, and hands each rendered line to the open streams of the row's organization
(the organization read from the row, never from the payload): a stream only ever holds its own
organization's lines. A stream first sends what it missed (`Last-Event-ID`), then live lines,
and a comment line as heartbeat so proxies keep it open. If the listener loses its connection,
it reconnects and every stream re-reads from its cursor, so nothing is lost in between.

The fan-out is the hot path (200 streams x 50 lines a second is 10,000 lines a second to
write): a batch's lines are rendered and encoded once per process, joined once per
organization, and each stream gets one queue item and makes one write per batch, whatever the
number of lines in it; a stream that fell behind writes everything queued at once. No stream
touches the database after it opened, except to re-read after a reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
from asgiref.sync import SyncToAsync, sync_to_async
from django.db import close_old_connections, connections

from accounts.tenancy import staff_scope, tenant_scope
from salesbrain import asgi_handler

from . import feed

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
# How long the listener gathers announcements into one batch (one read, one write per stream):
# at 50 lines a second one at a time, 20 ms makes batches of about two lines for a 20 ms delay.
GATHER_SECONDS = 0.02
RECONNECT_SECONDS = 1.0
RETRY_MS = 2000
RESYNC = object()


def close_old_connections_now() -> None:
    """Close this thread's database connections (the request's transaction is over)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def release_request_thread() -> None:
    """Let the request's own sync thread go: an open stream needs none.

    Each ASGI request runs in a `ThreadSensitiveContext` whose one-thread executor (the thread
    the sync middleware ran on) lives until the response ends: every open stream kept an idle
    OS thread (200 streams, 200 threads). A thread lent by the server's pool
    (`salesbrain.asgi_handler`) goes back to it now; one Django made for the request is shut
    down. A later thread-sensitive call of the same request (Django's `request_finished` when
    the stream closes) gets a fresh one. Uses asgiref's bookkeeping, guarded: if it ever
    changes, this does nothing and the stream still works.
    """
    contexts = getattr(SyncToAsync, "thread_sensitive_context", None)
    executors = getattr(SyncToAsync, "context_to_thread_executor", None)
    context = contexts.get(None) if contexts is not None else None
    if context is None or executors is None:
        return  # not in a per-request context
    executor = executors.get(context)
    if executor is None:
        return
    if getattr(context, "_executor", None) is not None:
        # The caller owns it: only the server's pool may take it back.
        if asgi_handler.request_executors.give_back(executor):
            executors.pop(context, None)
        return
    executors.pop(context, None)
    executor.shutdown(wait=False)


def _conninfo() -> dict:
    """The application's own database connection settings (the RLS-bound role)."""
    s = connections["default"].settings_dict
    return {
        "dbname": s["NAME"],
        "user": s["USER"],
        "password": s["PASSWORD"] or None,
        "host": s["HOST"] or None,
        "port": s["PORT"] or None,
    }


def _read_lines(ids: list[int]) -> list[tuple[uuid.UUID, int, bytes]]:
    """Announced rows as (organization, id, encoded SSE frame), read once for every stream."""
    close_old_connections()
    with staff_scope():
        return [(e.organization_id, e.id, feed.sse_frame(e).encode()) for e in feed.by_ids(ids)]


def _missed_lines(organization_id, last_id: int) -> list[tuple[int, str]]:
    with tenant_scope(organization_id):
        return [(e.id, feed.sse_frame(e)) for e in feed.after(organization_id, last_id)]


def _missed_lines_in_pool(organization_id, last_id: int) -> list[tuple[int, str]]:
    close_old_connections()  # a pool thread's connection may have aged out
    return _missed_lines(organization_id, last_id)


# One thread per process reads for every stream: its one database connection is reused, and
# reads are small (a batch of announced rows, one organization's missed lines).
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-db")


async def _in_database_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(_database_thread, function, *args)


async def read_lines(ids: list[int]):
    return await _in_database_thread(_read_lines, ids)


async def missed_lines(organization_id, last_id: int):
    return await _in_database_thread(_missed_lines_in_pool, organization_id, last_id)


def close_database_connection() -> None:
    """Close the reading thread's connection (tests, before their database is dropped)."""
    _database_thread.submit(connections.close_all).result()


class Broadcaster:
    """The process's listener and its streams, grouped by organization."""

    def __init__(self) -> None:
        self.streams: dict[uuid.UUID, set[asyncio.Queue]] = defaultdict(set)
        self.task: asyncio.Task | None = None
        self.listening = asyncio.Event()

    def open(self, organization_id: uuid.UUID) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self.streams[organization_id].add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        return queue

    def close(self, organization_id: uuid.UUID, queue: asyncio.Queue) -> None:
        self.streams[organization_id].discard(queue)
        if not self.streams[organization_id]:
            del self.streams[organization_id]

    async def stop(self) -> None:
        """Stop listening and close the connection (server shutdown, tests)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    def count(self) -> int:
        return sum(len(queues) for queues in self.streams.values())

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: retry, streams re-read on reconnect
                log.exception("feed listener lost its connection")
            self.listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True) as conn:
            await conn.execute(f"LISTEN {feed.FEED_CHANNEL}")
            self.listening.set()
            for queues in self.streams.values():  # anything missed while reconnecting
                for queue in queues:
                    queue.put_nowait(RESYNC)
            notifies = conn.notifies()
            while True:
                first = await anext(notifies)
                ids = [json.loads(first.payload)["id"]]
                # Gather what arrives together: one read for many lines.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(GATHER_SECONDS):
                        async for more in notifies:
                            ids.append(json.loads(more.payload)["id"])
                            if len(ids) >= 500:
                                break
                notifies = conn.notifies()
                await self._hand_out(ids)

    async def _hand_out(self, ids: list[int]) -> None:
        if not self.streams:
            return
        for organization_id, batch in Batch.by_organization(await read_lines(ids)).items():
            for queue in self.streams.get(organization_id, ()):
                queue.put_nowait(batch)


class Batch:
    """One organization's lines of one announcement: their ids, and every frame already joined
    into the one chunk a stream writes (shared by all the organization's streams)."""

    __slots__ = ("ids", "frames", "chunk")

    def __init__(self, lines: list[tuple[int, bytes]]) -> None:
        self.ids = [line_id for line_id, _ in lines]
        self.frames = [frame for _, frame in lines]
        self.chunk = b"".join(self.frames)

    @classmethod
    def by_organization(cls, rows) -> dict[uuid.UUID, Batch]:
        lines: dict[uuid.UUID, list[tuple[int, bytes]]] = defaultdict(list)
        for organization_id, line_id, frame in rows:
            lines[organization_id].append((line_id, frame))
        return {organization_id: cls(group) for organization_id, group in lines.items()}


_broadcasters: dict[int, Broadcaster] = {}


def broadcaster() -> Broadcaster:
    """The running event loop's broadcaster (one per process under an ASGI server)."""
    loop = asyncio.get_running_loop()
    if id(loop) not in _broadcasters:
        _broadcasters[id(loop)] = Broadcaster()
    return _broadcasters[id(loop)]


async def stream(organization_id: uuid.UUID, last_id: int | None) -> AsyncIterator[str | bytes]:
    """The SSE body of one open stream: missed lines first, then live ones, heartbeats."""
    hub = broadcaster()
    queue = hub.open(organization_id)
    try:
        yield f"retry: {RETRY_MS}\n\n"
        # The request's middleware ran on this request's own sync thread, whose database
        # session Django would close only when the stream ends: close it now, or every open
        # stream holds a PostgreSQL connection (200 streams exhausted max_connections in
        # bench/feed_latency.py). The stream itself reads through `_database_thread`.
        await sync_to_async(close_old_connections_now)()
        release_request_thread()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await hub.listening.wait()
        cursor = last_id if last_id is not None else await _newest(organization_id)
        sent: set[int] = set()
        pending: list = [RESYNC] if last_id is not None else []
        while True:
            if not pending:
                item = await _next(queue)
                if item is None:
                    yield ": heartbeat\n\n"
                    continue
                pending.append(item)
            # Everything queued goes out in one write.
            while not queue.empty():
                pending.append(queue.get_nowait())
            chunks: list[bytes] = []
            for item in pending:
                batch = item if item is not RESYNC else await _missed_batch(organization_id, cursor)
                if not batch.ids:  # a resync that found nothing new
                    continue
                if sent.isdisjoint(batch.ids):  # the usual case: the batch's chunk as it is
                    chunks.append(batch.chunk)
                else:  # a resync overlapped live lines: only the unsent ones
                    lines = zip(batch.ids, batch.frames, strict=True)
                    chunks += [frame for line_id, frame in lines if line_id not in sent]
                sent.update(batch.ids)
                cursor = max(cursor, max(batch.ids, default=cursor))
            pending.clear()
            if len(sent) > 10_000:  # only recent ids can come twice (resync overlap)
                sent = {i for i in sent if i > cursor - 1000}
            if chunks:
                yield b"".join(chunks) if len(chunks) > 1 else chunks[0]
    finally:
        hub.close(organization_id, queue)


async def _missed_batch(organization_id, cursor: int) -> Batch:
    lines = await missed_lines(organization_id, cursor)
    return Batch([(line_id, frame.encode()) for line_id, frame in lines])


async def _next(queue: asyncio.Queue):
    try:
        async with asyncio.timeout(HEARTBEAT_SECONDS):
            return await queue.get()
    except TimeoutError:
        return None


async def _newest(organization_id) -> int:
    def newest() -> int:
        close_old_connections()
        with tenant_scope(organization_id):
            return feed.newest_id(organization_id)

    return await _in_database_thread(newest)


def polling_stream(
    organization_id, last_id: int | None, *, seconds: float, interval: float, sleep
) -> Iterator[str]:
    """The same stream for a WSGI server (`runserver`, the test live server), which cannot hold
    an async stream: poll the database for a while, then end; the browser reconnects with
    `Last-Event-ID` and resumes where it stopped."""
    yield f"retry: {int(interval * 1000)}\n\n"
    if last_id is None:
        with tenant_scope(organization_id):
            last_id = feed.newest_id(organization_id)
    waited = 0.0
    while waited < seconds:
        for line_id, frame in _missed_lines(organization_id, last_id):
            last_id = max(last_id, line_id)
            yield frame
        sleep(interval)
        waited += interval
    yield ": reconnect\n\n"
