"""The production ASGI handler lends each request a pooled thread: sequential requests reuse
one, concurrent requests each have their own, and the pool keeps a bounded number idle."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.signals import request_started

from salesbrain.asgi_handler import ExecutorPool, PooledThreadASGIHandler


async def _get(app, path="/healthz"):
    sent = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }  # fmt: skip

    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    finished = asyncio.Event()

    async def receive():
        if messages:
            return messages.pop()
        await finished.wait()  # the client stays until the response is over
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


@pytest.fixture
def request_threads():
    """The thread each request's sync code starts on (request_started runs there)."""
    seen: list[threading.Thread] = []

    def record(**kwargs):
        seen.append(threading.current_thread())

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


@pytest.fixture
def pool(monkeypatch):
    from salesbrain import asgi_handler

    fresh = ExecutorPool(max_idle=4)
    monkeypatch.setattr(asgi_handler, "request_executors", fresh)
    return fresh


@pytest.mark.django_db
def test_sequential_requests_reuse_one_thread(pool, request_threads):
    app = PooledThreadASGIHandler()

    async def scenario():
        return [await _get(app) for _ in range(3)]

    assert asyncio.run(scenario()) == [200, 200, 200]
    assert len(request_threads) == 3 and len(set(request_threads)) == 1
    assert request_threads[0] is not threading.current_thread()
    assert pool.idle == 1


@pytest.mark.django_db
def test_concurrent_requests_each_have_their_own_thread(pool, request_threads):
    app = PooledThreadASGIHandler()

    async def scenario():
        return await asyncio.gather(*(_get(app) for _ in range(3)))

    assert asyncio.run(scenario()) == [200, 200, 200]
    assert len(set(request_threads)) == 3
    assert pool.idle == 3


def test_the_pool_keeps_at_most_max_idle_and_takes_each_executor_back_once():
    pool = ExecutorPool(max_idle=1)
    first, second = pool.borrow(), pool.borrow()
    assert first is not second
    assert pool.give_back(first) and pool.idle == 1
    assert not pool.give_back(first)  # twice: ignored
    assert pool.give_back(second) and pool.idle == 1  # over the limit: shut down
    assert second._shutdown and not first._shutdown
    assert pool.borrow() is first


def test_the_production_entry_point_serves_with_it():
    from salesbrain.asgi import application

    assert isinstance(application, PooledThreadASGIHandler)


def test_a_lifespan_scope_is_refused_as_django_does_without_borrowing(pool):
    async def scenario():
        await PooledThreadASGIHandler()({"type": "lifespan"}, None, None)

    with pytest.raises(ValueError, match="lifespan"):
        asyncio.run(scenario())
    assert pool.idle == 0 and not pool._lent
