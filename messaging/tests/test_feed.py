"""The live feed: lines reach their own organization's open streams (through PostgreSQL
LISTEN/NOTIFY after commit) and never another's; a stream resumed with `Last-Event-ID` sends
everything it missed; the page works as a plain list."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.api_tokens import ApiToken
from messaging import feed_stream
from testkit import make_feed_event

TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def _close_stream_connection():
    yield
    feed_stream.close_database_connection()


def _frame(text: str) -> dict:
    fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
    return {"id": int(fields["id"]), **json.loads(fields["data"])}


def _frames(chunk: str | bytes) -> list[dict]:
    """The SSE messages of one chunk a stream wrote (one write may carry several)."""
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    return [_frame(message) for message in text.split("\n\n") if message.strip()]


async def _read_frames(stream, count: int) -> list[dict]:
    """Read chunks until `count` messages arrived (however the stream grouped them)."""
    got: list[dict] = []
    while len(got) < count:
        got += _frames(await asyncio.wait_for(anext(stream), TIMEOUT))
    return got


async def write_line(organization, **fields):
    """Commit a feed line from another thread, like a worker would (its connection closed
    after, so the test database can be dropped)."""

    def write():
        try:
            return make_feed_event(organization, **fields)
        finally:
            connections.close_all()

    return await sync_to_async(write)()


def run(scenario):
    """Run a scenario, then stop the loop's listener (its connection must not outlive it)."""

    async def with_cleanup():
        try:
            return await scenario()
        finally:
            await feed_stream.broadcaster().stop()

    return asyncio.run(with_cleanup())


async def _open(organization_id, last_id=None):
    stream = feed_stream.stream(organization_id, last_id)
    assert (await anext(stream)).startswith("retry:")
    return stream


@pytest.mark.django_db(transaction=True)
def test_a_line_reaches_its_organizations_stream_and_never_anothers(org_a, org_b):
    async def scenario():
        alice_stream = await _open(org_a.pk)
        bob_stream = await _open(org_b.pk)
        alice_next = asyncio.ensure_future(anext(alice_stream))
        bob_next = asyncio.ensure_future(anext(bob_stream))
        await asyncio.wait_for(feed_stream.broadcaster().listening.wait(), TIMEOUT)
        await asyncio.sleep(0.2)  # both streams past their first read
        line = await write_line(org_a, title="Reply from Ann")
        [frame] = _frames(await asyncio.wait_for(alice_next, TIMEOUT))
        await asyncio.sleep(0.5)
        assert not bob_next.done()  # nothing for org B
        bob_next.cancel()
        await alice_stream.aclose()
        return line, frame

    line, frame = run(scenario)
    assert frame["id"] == line.pk and frame["title"] == "Reply from Ann"


@pytest.mark.django_db(transaction=True)
def test_resume_with_last_event_id_misses_nothing(org_a, org_b):
    first = make_feed_event(org_a, title="one")
    missed = [make_feed_event(org_a, title=t) for t in ("two", "three")]
    make_feed_event(org_b, title="not yours")

    async def scenario():
        stream = await _open(org_a.pk, last_id=first.pk)
        got = await _read_frames(stream, len(missed))
        live_next = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.2)
        later = await write_line(org_a, title="four")
        got += _frames(await asyncio.wait_for(live_next, TIMEOUT))
        await stream.aclose()
        return got, later

    got, later = run(scenario)
    assert [g["title"] for g in got] == ["two", "three", "four"]
    assert [g["id"] for g in got] == [missed[0].pk, missed[1].pk, later.pk]


@pytest.mark.django_db(transaction=True)
def test_an_idle_stream_sends_heartbeats(org_a, monkeypatch):
    monkeypatch.setattr(feed_stream, "HEARTBEAT_SECONDS", 0.1)

    async def scenario():
        stream = await _open(org_a.pk)
        beat = await asyncio.wait_for(anext(stream), TIMEOUT)
        await asyncio.wait_for(feed_stream.broadcaster().listening.wait(), TIMEOUT)
        await stream.aclose()
        return beat

    assert run(scenario) == ": heartbeat\n\n"


@pytest.mark.django_db
def test_page_is_a_plain_list_with_a_refresh_link_and_no_inline_script(alice, org_a, org_b):
    make_feed_event(org_a, title="Reply from Ann")
    make_feed_event(org_b, title="Reply to bob")
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("feed:page")).content.decode()
    assert "Reply from Ann" in page and "Reply to bob" not in page
    assert "data-feed-refresh" in page and "js/feed.js" in page
    assert "<script>" not in page


@pytest.mark.django_db
def test_stream_requires_login_and_an_organization(charlie):
    assert Client().get(reverse("feed:stream")).status_code == 401
    client = Client()
    client.force_login(charlie)
    assert client.get(reverse("feed:stream")).status_code == 403


@pytest.mark.django_db
def test_stream_accepts_an_api_token(alice):
    bad = Client().get(reverse("feed:stream"), HTTP_AUTHORIZATION="Token sb_not-a-real-key")
    assert bad.status_code == 401
    key = ApiToken.issue(alice, "feed")[1]
    response = Client().get(reverse("feed:stream"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200  # (not consumed: the body would poll for a while)
    assert response["Content-Type"] == "text/event-stream"


@pytest.mark.django_db
def test_stream_under_wsgi_polls_then_ends(alice, org_a, org_b, monkeypatch):
    from messaging import feed_views  # noqa: PLC0415 - the module whose timing is shortened

    monkeypatch.setattr(feed_views, "WSGI_STREAM_SECONDS", 0.2)
    monkeypatch.setattr(feed_views, "WSGI_POLL_SECONDS", 0.1)
    first = make_feed_event(org_a, title="one")
    second = make_feed_event(org_a, title="two")
    make_feed_event(org_b, title="bob's")
    client = Client()
    client.force_login(alice)
    response = client.get(reverse("feed:stream"), HTTP_LAST_EVENT_ID=str(first.pk))
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert f"id: {second.pk}\n" in body and "bob's" not in body and "one" not in body


@pytest.mark.django_db(transaction=True)
def test_lines_committed_together_reach_a_stream_in_one_write(org_a, org_b):
    """The fan-out writes a batch once per stream: three lines of one commit are one chunk
    for alice's stream, and bob's stream gets none of them."""
    from accounts.tenancy import staff_scope  # noqa: PLC0415

    def write_three():
        try:
            with staff_scope():
                return [make_feed_event(org_a, title=f"Reply {n}") for n in range(3)]
        finally:
            connections.close_all()

    async def scenario():
        alice_stream = await _open(org_a.pk)
        bob_stream = await _open(org_b.pk)
        alice_next = asyncio.ensure_future(anext(alice_stream))
        bob_next = asyncio.ensure_future(anext(bob_stream))
        await asyncio.wait_for(feed_stream.broadcaster().listening.wait(), TIMEOUT)
        await asyncio.sleep(0.2)
        lines = await sync_to_async(write_three)()
        chunk = await asyncio.wait_for(alice_next, TIMEOUT)
        await asyncio.sleep(0.5)
        assert not bob_next.done()
        bob_next.cancel()
        await alice_stream.aclose()
        return lines, chunk

    lines, chunk = run(scenario)
    assert isinstance(chunk, bytes)
    assert [f["id"] for f in _frames(chunk)] == [line.pk for line in lines]


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_fell_behind_writes_all_queued_lines_at_once_without_repeats(org_a):
    """Batches queued while the stream was busy go out in one write; a line both re-read on
    resume and announced live is sent once."""
    first = make_feed_event(org_a, title="one")
    missed = make_feed_event(org_a, title="two")

    def frame(line_id: int, title: str) -> tuple[int, bytes]:
        data = json.dumps({"id": line_id, "title": title})
        return line_id, f"id: {line_id}\nevent: feed\ndata: {data}\n\n".encode()

    async def scenario():
        stream = await _open(org_a.pk, last_id=first.pk)
        [queue] = feed_stream.broadcaster().streams[org_a.pk]
        # Announced live while the stream was still re-reading what it missed:
        queue.put_nowait(feed_stream.Batch([frame(missed.pk, "two")]))
        queue.put_nowait(feed_stream.Batch([frame(missed.pk + 1, "live")]))
        chunk = await asyncio.wait_for(anext(stream), TIMEOUT)
        await stream.aclose()
        return chunk

    chunk = run(scenario)
    assert [(f["id"], f["title"]) for f in _frames(chunk)] == [
        (missed.pk, "two"),
        (missed.pk + 1, "live"),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_open_stream_holds_no_thread_of_its_own(org_a):
    """Django gives each ASGI request a thread for its sync middleware, kept until the response
    ends; a stream lets it go once open (200 streams were 200 idle threads)."""

    async def scenario():
        async with ThreadSensitiveContext():  # what Django's ASGI handler opens per request
            context = SyncToAsync.thread_sensitive_context.get()
            request_thread = await sync_to_async(threading.current_thread)()
            stream = await _open(org_a.pk)
            waiting = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0.5)  # the stream is open and waiting for lines
            held = context in SyncToAsync.context_to_thread_executor
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await waiting
        return request_thread, held

    request_thread, held = run(scenario)
    request_thread.join(5)
    assert not held and not request_thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_an_open_stream_gives_a_pooled_thread_back_to_the_server(org_a):
    """Under the production handler the request's thread is lent by a pool
    (salesbrain.asgi_handler): an open stream gives it back at once, for other requests."""
    from salesbrain.asgi_handler import request_executors

    async def scenario():
        executor = request_executors.borrow()
        idle_before = request_executors.idle
        async with ThreadSensitiveContext(executor=executor):
            context = SyncToAsync.thread_sensitive_context.get()
            await sync_to_async(threading.current_thread)()
            stream = await _open(org_a.pk)
            waiting = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0.5)
            held = context in SyncToAsync.context_to_thread_executor
            returned = request_executors.idle - idle_before
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await waiting
        given_back_twice = request_executors.give_back(executor)  # the handler's own return
        return held, returned, given_back_twice

    held, returned, given_back_twice = run(scenario)
    assert not held and returned == 1 and not given_back_twice
