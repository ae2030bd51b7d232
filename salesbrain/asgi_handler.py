"""Django's ASGI handler, with each request's sync thread borrowed from a pool, not made anew.

Django runs an ASGI request inside `ThreadSensitiveContext()`: the request's sync code (every
middleware here is sync, and so are the views) runs on a one-thread executor made for that
request. The thread is started on the request's first sync call, and when the request ends
a second thread is started to join it. Two thread starts per request were the biggest fixed
cost of the production server: `bench/webhook_ingest.py --worker-class uvicorn` measured the
bare JSON view at 1,126-1,264 req/s with them and 1,784-1,954 req/s with pooled threads.

asgiref lets the caller own the executor (`ThreadSensitiveContext(executor=...)`): it is
used for the request and not shut down. `ExecutorPool` lends one per request and takes it
back when the response is over; a stream that no longer needs its thread gives it back early
(`messaging.feed_stream.release_request_thread`). A request still has a thread of its own
while it runs (its sync calls are never interleaved with another request's), as with Django's
handler; what a thread keeps between requests is what WSGI threads keep too (thread-locals),
which this code already allows for.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

# Idle threads kept per process; a burst beyond this makes threads that end when it is over.
MAX_IDLE = 32


class ExecutorPool:
    """One-thread executors lent to requests: at most `max_idle` idle ones are kept."""

    def __init__(self, max_idle: int = MAX_IDLE) -> None:
        self.max_idle = max_idle
        self._idle: list[ThreadPoolExecutor] = []
        self._lent: set[ThreadPoolExecutor] = set()
        self._lock = threading.Lock()

    def borrow(self) -> ThreadPoolExecutor:
        with self._lock:
            executor = self._idle.pop() if self._idle else None
            if executor is None:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asgi-request")
            self._lent.add(executor)
        return executor

    def give_back(self, executor: ThreadPoolExecutor) -> bool:
        """Take an executor back (once: a second call, or a stranger, is ignored); answers
        whether it was one of ours."""
        with self._lock:
            if executor not in self._lent:
                return False
            self._lent.discard(executor)
            if len(self._idle) < self.max_idle:
                self._idle.append(executor)
                return True
        executor.shutdown(wait=False)  # its thread ends once idle
        return True

    @property
    def idle(self) -> int:
        return len(self._idle)


request_executors = ExecutorPool()


class PooledThreadASGIHandler(ASGIHandler):
    """`django.core.handlers.asgi.ASGIHandler` whose requests borrow their sync thread."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":  # lifespan: Django refuses it, with no thread to lend
            return await super().__call__(scope, receive, send)
        executor = request_executors.borrow()
        try:
            # Django's own `ThreadSensitiveContext()` inside is then a no-op: the outermost
            # context decides the executor.
            async with ThreadSensitiveContext(executor=executor):
                await super().__call__(scope, receive, send)
        finally:
            request_executors.give_back(executor)
