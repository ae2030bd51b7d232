"""The local Instantly sandbox: a WSGI stand-in for Instantly's API v2 over a SandboxWorkspace.

Demos and end-to-end tests run against it instead of the real API. It answers the paths the
product uses (`handlers`) with Instantly's auth, cursor pagination, error bodies (`protocol`)
and rate limits (100 requests/s and 6,000/min per workspace, 429 with Retry-After), can be told
to fail on purpose (`SandboxApp.inject`, POST /__sandbox/faults), and counts every request
(GET /__sandbox/stats) so a benchmark can prove a client never went over Instantly's limits.
Pure stdlib: `SandboxServer` runs it in a background thread.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from instantly.sandbox import handlers
from instantly.sandbox.data import NotFound, SandboxWorkspace
from instantly.sandbox.protocol import HttpError, Request, Response, Router, error_body, phrase

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_V1_API_KEY = "sandbox-v1-key"
ROUTER = Router(handlers.ROUTES)


class RateLimiter:
    """Sliding windows over accepted requests, like Instantly's per-workspace budget.

    Refused requests do not use up the budget. `peaks` records the most requests accepted in
    any one window, which is what a benchmark compares with Instantly's limits.
    """

    def __init__(self, limits: Iterable[tuple[int, float]]) -> None:
        self._windows = [(limit, seconds, deque()) for limit, seconds in limits]
        self.peaks = [0] * len(self._windows)

    def acquire(self, now: float) -> float | None:
        """Count a request at `now`: None when allowed, else seconds until a slot frees up."""
        waits = []
        for limit, seconds, stamps in self._windows:
            while stamps and stamps[0] <= now - seconds:
                stamps.popleft()
            if len(stamps) >= limit:
                waits.append(stamps[0] + seconds - now)
        if waits:
            return max(waits)
        for index, (_, _, stamps) in enumerate(self._windows):
            stamps.append(now)
            self.peaks[index] = max(self.peaks[index], len(stamps))
        return None


@dataclass
class Fault:
    """A status to answer for the next `remaining` API requests (optionally one path only)."""

    status: int
    remaining: int
    retry_after: float | None = None
    path: str | None = None


class SandboxApp:
    """WSGI application answering Instantly API v2 (and the v1 campaign list) from a workspace.

    `clock` drives the rate limiter, so tests can step time instead of sleeping.
    `emails_per_minute` turns on the stricter GET /emails limit Instantly likely applies (20).
    """

    def __init__(
        self,
        workspace: SandboxWorkspace | None = None,
        api_key: str = DEFAULT_API_KEY,
        per_second: int = 100,
        per_minute: int = 6000,
        clock: Callable[[], float] = time.monotonic,
        v1_api_key: str = DEFAULT_V1_API_KEY,
        emails_per_minute: int | None = None,
    ) -> None:
        self.workspace = workspace if workspace is not None else SandboxWorkspace()
        self.api_key = api_key
        self.v1_api_key = v1_api_key
        self.clock = clock
        self._limits = (per_second, per_minute, emails_per_minute)
        self._data_lock = threading.Lock()
        self._meta_lock = threading.Lock()
        self._faults: list[Fault] = []
        self.reset_stats()

    # --- switches for tests ----------------------------------------------------------------

    def inject(
        self,
        status: int = 503,
        count: int = 1,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> None:
        """Answer `status` to the next `count` API requests (those under `path` if given).

        A 429 carries Retry-After (1 s unless `retry_after` says otherwise)."""
        if not 100 <= int(status) <= 599 or int(count) < 1:
            raise ValueError("status must be 100..599 and count >= 1")
        with self._meta_lock:
            self._faults.append(Fault(int(status), int(count), retry_after, path))

    def clear_faults(self) -> None:
        with self._meta_lock:
            self._faults.clear()

    def reset_stats(self) -> None:
        """Forget counted requests and restart the rate-limit windows."""
        per_second, per_minute, emails_per_minute = self._limits
        with self._meta_lock:
            self._limiter = RateLimiter([(per_second, 1.0), (per_minute, 60.0)])
            self._emails_limiter = (
                RateLimiter([(emails_per_minute, 60.0)]) if emails_per_minute else None
            )
            self._by_path: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()
            self._rate_limited = 0
            self._injected = 0

    def stats(self) -> dict[str, Any]:
        """Counts of API requests answered; `rate_limited` counts 429s the limiter gave."""
        with self._meta_lock:
            return {
                "total": sum(self._by_path.values()),
                "by_path": dict(sorted(self._by_path.items())),
                "by_status": dict(sorted(self._by_status.items())),
                "rate_limited": self._rate_limited,
                "injected": self._injected,
                "peak_per_second": self._limiter.peaks[0],
                "peak_per_minute": self._limiter.peaks[1],
                "limits": {"per_second": self._limits[0], "per_minute": self._limits[1]},
            }

    # --- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        request = Request(environ)
        if request.path.startswith("/__sandbox/"):
            response = self._control(request)
        else:
            response = self._api(request)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            *response.headers,
        ]
        start_response(f"{response.status} {phrase(response.status)}", headers)
        return [payload]

    def _api(self, request: Request) -> Response:
        route, handler, params = ROUTER.match(request)
        label = route if route else f"{request.method} (no route)"
        response = self._answer(request, route, handler, params)
        with self._meta_lock:
            self._by_path[label] += 1
            self._by_status[str(response.status)] += 1
        return response

    def _answer(
        self,
        request: Request,
        route: str | None,
        handler: Callable | None,
        params: dict[str, str],
    ) -> Response:
        fault = self._take_fault(request.path)
        if fault is not None:
            return fault
        v1 = request.path.startswith("/api/v1/")
        if v1:
            authorized = (request.one("api_key") or "") == self.v1_api_key
        else:
            authorized = request.authorization == f"Bearer {self.api_key}"
        if not authorized:
            return Response(401, error_body(401, "Invalid API key"))
        throttled = self._throttle(request, route)
        if throttled is not None:
            return throttled
        if route is None:
            message = f"Route {request.method}:{request.path} not found"
            return Response(404, error_body(404, message))
        try:
            with self._data_lock:
                result = handler(self.workspace, request, **params)
        except HttpError as exc:
            return Response(exc.status, error_body(exc.status, exc.message), exc.headers)
        except NotFound as exc:
            return Response(404, error_body(404, str(exc)))
        except ValueError as exc:
            return Response(400, error_body(400, str(exc)))
        return result if isinstance(result, Response) else Response(200, result)

    def _take_fault(self, path: str) -> Response | None:
        with self._meta_lock:
            for fault in self._faults:
                if fault.path is None or path.startswith(fault.path):
                    break
            else:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            self._injected += 1
        headers = []
        if fault.status == 429 or fault.retry_after is not None:
            headers.append(("Retry-After", str(math.ceil(fault.retry_after or 1))))
        message = "Rate limit exceeded" if fault.status == 429 else "Injected by the sandbox"
        return Response(fault.status, error_body(fault.status, message), headers)

    def _throttle(self, request: Request, route: str | None) -> Response | None:
        now = self.clock()
        with self._meta_lock:
            wait = self._limiter.acquire(now)
            if wait is None and self._emails_limiter and route == "GET /api/v2/emails":
                wait = self._emails_limiter.acquire(now)
            if wait is None:
                return None
            self._rate_limited += 1
        headers = [("Retry-After", str(max(1, math.ceil(wait))))]
        return Response(429, error_body(429, "Rate limit exceeded"), headers)

    # --- control endpoints (no auth, not counted) ------------------------------------------

    def _control(self, request: Request) -> Response:
        try:
            if request.path == "/__sandbox/stats" and request.method == "GET":
                return Response(200, self.stats())
            if request.path == "/__sandbox/stats" and request.method == "DELETE":
                self.reset_stats()
                return Response(200, self.stats())
            if request.path == "/__sandbox/faults" and request.method == "POST":
                body = request.json()
                self.inject(
                    status=int(body.get("status", 503)),
                    count=int(body.get("count", 1)),
                    retry_after=body.get("retry_after"),
                    path=body.get("path"),
                )
                return Response(200, {"pending": self._pending_faults()})
            if request.path == "/__sandbox/faults" and request.method == "DELETE":
                self.clear_faults()
                return Response(200, {"pending": []})
            match = re.match(r"^/__sandbox/webhooks/([^/]+)/disable$", request.path)
            if match and request.method == "POST":
                with self._data_lock:
                    return Response(200, self.workspace.set_webhook_status(match[1], False))
        except NotFound as exc:
            return Response(404, error_body(404, str(exc)))
        except (TypeError, ValueError) as exc:
            return Response(400, error_body(400, str(exc)))
        return Response(404, error_body(404, f"Route {request.method}:{request.path} not found"))

    def _pending_faults(self) -> list[dict[str, Any]]:
        with self._meta_lock:
            return [vars(fault).copy() for fault in self._faults]


# --- serving ---------------------------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # Non-daemon request threads are joined by server_close(): no request outlives stop().
    daemon_threads = False
    block_on_close = True
    # Benchmarks open many connections at once (wsgiref speaks HTTP/1.0: one per request).
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    # An idle or stuck client gives up its thread after this many seconds, so stop() ends.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs would drown test and benchmark output."""


class SandboxServer:
    """Serve a SandboxApp on a background thread; use as a context manager.

    `port=0` picks a free port; `base_url` is what INSTANTLY_API_BASE_URL should be.
    """

    def __init__(self, app: Callable, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._server = make_server(
            self.host,
            self.port,
            self.app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"instantly-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
