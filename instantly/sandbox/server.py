"""The local Instantly sandbox: a WSGI stand-in for Instantly's API v2 over a SandboxWorkspace.

Demos and end-to-end tests run against it instead of the real API. It answers the paths the
product uses with Instantly's auth, cursor pagination, error bodies and rate limits (100
requests/s and 6,000/min per workspace, 429 with Retry-After), can be told to fail on purpose
(`SandboxApp.inject`, POST /__sandbox/faults), and counts every request (GET /__sandbox/stats)
so a benchmark can prove a client never went over Instantly's limits. Pure stdlib:
`SandboxServer` runs it in a background thread.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from instantly.sandbox.data import NotFound, SandboxWorkspace, parse_date
from instantly.sandbox.webhooks import SUBSCRIPTION_EVENT_TYPES

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_V1_API_KEY = "sandbox-v1-key"
DEFAULT_PAGE_LIMIT = 10
MAX_PAGE_LIMIT = 100
MAX_BULK_LEADS = 1000
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# Most specific first: /campaigns/analytics must win over /campaigns/{id}.
ROUTES = (
    ("GET", "/api/v2/workspaces/current", "get_workspace"),
    ("GET", "/api/v2/campaigns", "list_campaigns"),
    ("GET", "/api/v2/campaigns/analytics", "campaign_analytics"),
    ("GET", "/api/v2/campaigns/analytics/daily", "campaign_daily_analytics"),
    ("GET", "/api/v2/campaigns/analytics/steps", "campaign_step_analytics"),
    ("GET", "/api/v2/campaigns/{id}", "get_campaign"),
    ("GET", "/api/v2/accounts", "list_accounts"),
    ("GET", "/api/v2/accounts/analytics/daily", "account_daily_analytics"),
    ("GET", "/api/v2/accounts/{email}", "get_account"),
    ("POST", "/api/v2/leads", "create_lead"),
    ("POST", "/api/v2/leads/add", "add_leads"),
    ("POST", "/api/v2/leads/list", "list_leads"),
    ("DELETE", "/api/v2/leads/{id}", "delete_lead"),
    ("GET", "/api/v2/emails", "list_emails"),
    ("POST", "/api/v2/emails/reply", "reply"),
    ("GET", "/api/v2/webhooks", "list_webhooks"),
    ("POST", "/api/v2/webhooks", "create_webhook"),
    ("PATCH", "/api/v2/webhooks/{id}", "update_webhook"),
    ("DELETE", "/api/v2/webhooks/{id}", "delete_webhook"),
    ("POST", "/api/v2/webhooks/{id}/resume", "resume_webhook"),
    ("GET", "/api/v1/campaign/list", "v1_list_campaigns"),
)


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


_COMPILED_ROUTES = tuple(
    (method, template, _compile(template), handler) for method, template, handler in ROUTES
)


class HttpError(Exception):
    """Answer with this status and Instantly's error body."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str) -> dict[str, Any]:
    """Instantly's error shape: {"statusCode", "error", "message"}."""
    return {"statusCode": status, "error": _phrase(status), "message": message}


@dataclass
class Response:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


class Request:
    """The parts of a WSGI environ the handlers need, with the JSON body parsed on demand."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.method = environ["REQUEST_METHOD"].upper()
        # PEP 3333 hands the (already unquoted) path over as latin-1 text.
        raw_path = environ.get("PATH_INFO", "") or "/"
        self.path = raw_path.encode("latin-1").decode("utf-8", "replace")
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.authorization = environ.get("HTTP_AUTHORIZATION", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.raw_body = environ["wsgi.input"].read(length) if length > 0 else b""
        self._json: Any = None

    def json(self) -> dict[str, Any]:
        if self._json is None:
            if not self.raw_body:
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError:
                    raise HttpError(400, "Body is not valid JSON")
            if not isinstance(self._json, dict):
                raise HttpError(400, "body must be object")
        return self._json

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def many(self, name: str) -> list[str] | None:
        """A list parameter sent repeated (ids=a&ids=b), bracketed (ids[]=a) or comma-joined."""
        values = self.query.get(name, []) + self.query.get(f"{name}[]", [])
        if not values:
            return None
        return [part for value in values for part in value.split(",") if part]


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
        start_response(f"{response.status} {_phrase(response.status)}", headers)
        return [payload]

    def _api(self, request: Request) -> Response:
        route, handler, params = _match(request)
        label = route if route else f"{request.method} (no route)"
        response = self._answer(request, route, handler, params)
        with self._meta_lock:
            self._by_path[label] += 1
            self._by_status[str(response.status)] += 1
        return response

    def _answer(
        self, request: Request, route: str | None, handler: str, params: dict[str, str]
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
                result = getattr(self, "_" + handler)(request, **params)
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

    # --- workspace and campaigns -----------------------------------------------------------

    def _get_workspace(self, request: Request) -> Any:
        return self.workspace.workspace

    def _list_campaigns(self, request: Request) -> Any:
        campaigns = self.workspace.campaigns
        search = (request.one("search") or "").lower()
        if search:
            campaigns = [c for c in campaigns if search in c["name"].lower()]
        status = _int_param(request.one("status"), "status")
        if status is not None:
            campaigns = [c for c in campaigns if c["status"] == status]
        tag_ids = request.many("tag_ids")
        if tag_ids:
            campaigns = [c for c in campaigns if set(tag_ids) & set(c["email_tag_list"])]
        return _page(campaigns, "id", request.one("limit"), request.one("starting_after"))

    def _get_campaign(self, request: Request, id: str) -> Any:
        return self.workspace.campaign(_uuid(id, "params/id"))

    def _campaign_analytics(self, request: Request) -> Any:
        ids = request.many("ids") or request.many("id")
        for value in ids or ():
            _uuid(value, "querystring/ids")
        start, end = _date_range(request)
        return self.workspace.campaign_analytics(ids, start, end)

    def _campaign_daily_analytics(self, request: Request) -> Any:
        campaign_id = request.one("campaign_id") or request.one("id")
        start, end = _date_range(request)
        if campaign_id is not None:
            _uuid(campaign_id, "querystring/campaign_id")
        try:
            return self.workspace.campaign_daily_analytics(campaign_id, start, end)
        except NotFound:
            return []

    def _campaign_step_analytics(self, request: Request) -> Any:
        campaign_id = request.one("campaign_id") or request.one("id")
        start, end = _date_range(request)
        if campaign_id is not None:
            _uuid(campaign_id, "querystring/campaign_id")
        try:
            return self.workspace.campaign_step_analytics(campaign_id, start, end)
        except NotFound:
            return []

    # --- sending mailboxes -----------------------------------------------------------------

    def _list_accounts(self, request: Request) -> Any:
        accounts = self.workspace.accounts
        search = (request.one("search") or "").lower()
        if search:
            accounts = [a for a in accounts if search in a["email"]]
        for name in ("status", "provider_code"):
            value = _int_param(request.one(name), name)
            if value is not None:
                accounts = [a for a in accounts if a[name] == value]
        return _page(accounts, "email", request.one("limit"), request.one("starting_after"))

    def _get_account(self, request: Request, email: str) -> Any:
        return self.workspace.account(email)

    def _account_daily_analytics(self, request: Request) -> Any:
        start, end = _date_range(request)
        return self.workspace.account_daily_analytics(request.many("emails"), start, end)

    # --- leads -----------------------------------------------------------------------------

    def _create_lead(self, request: Request) -> Any:
        body = request.json()
        campaign = body.get("campaign")
        if campaign is None:
            raise ValueError("body must have required property 'campaign'")
        return self.workspace.add_lead(_uuid(campaign, "body/campaign"), body)

    def _add_leads(self, request: Request) -> Any:
        body = request.json()
        campaign = body.get("campaign_id") or body.get("campaign")
        if campaign is None:
            raise ValueError("body must have required property 'campaign_id'")
        leads = body.get("leads")
        if not isinstance(leads, list) or not leads:
            raise ValueError("body/leads must be a non-empty array")
        if len(leads) > MAX_BULK_LEADS:
            raise ValueError(f"body/leads must NOT have more than {MAX_BULK_LEADS} items")
        return self.workspace.add_leads(
            _uuid(campaign, "body/campaign_id"),
            leads,
            skip_if_in_workspace=bool(body.get("skip_if_in_workspace")),
        )

    def _list_leads(self, request: Request) -> Any:
        body = request.json()
        campaign = body.get("campaign")
        try:
            leads = self.workspace.leads(None if campaign is None else _uuid(campaign, "campaign"))
        except NotFound:
            leads = []
        search = str(body.get("search") or "").lower()
        if search:
            fields = ("email", "first_name", "last_name", "company_name")
            leads = [
                lead
                for lead in leads
                if any(search in str(lead.get(name) or "").lower() for name in fields)
            ]
        if body.get("ids") is not None:
            wanted = set(_list_of_strings(body["ids"], "body/ids"))
            leads = [lead for lead in leads if lead["id"] in wanted]
        if body.get("contacts") is not None:
            wanted = {e.lower() for e in _list_of_strings(body["contacts"], "body/contacts")}
            leads = [lead for lead in leads if lead["email"] in wanted]
        limit = body.get("limit", request.one("limit"))
        cursor = body.get("starting_after", request.one("starting_after"))
        return _page(leads, "id", limit, cursor)

    def _delete_lead(self, request: Request, id: str) -> Any:
        return self.workspace.delete_lead(_uuid(id, "params/id"))

    # --- unibox ----------------------------------------------------------------------------

    def _list_emails(self, request: Request) -> Any:
        campaign_id = request.one("campaign_id")
        try:
            emails = self.workspace.emails(
                None if campaign_id is None else _uuid(campaign_id, "querystring/campaign_id")
            )
        except NotFound:
            emails = []
        lead = (request.one("lead") or "").lower()
        if lead:
            emails = [e for e in emails if e["lead"] == lead]
        eaccount = request.one("eaccount")
        if eaccount:
            emails = [e for e in emails if e["eaccount"] == eaccount]
        unread = request.one("is_unread")
        if unread is not None:
            if unread.lower() not in ("true", "false", "1", "0"):
                raise ValueError("querystring/is_unread must be boolean")
            flag = 1 if unread.lower() in ("true", "1") else 0
            emails = [e for e in emails if e["is_unread"] == flag]
        email_type = request.one("email_type")
        if email_type is not None:
            types = {"received": {2}, "sent": {1, 3}, "manual": {3}}.get(email_type)
            if types is None:
                raise ValueError("querystring/email_type must be one of received, sent, manual")
            emails = [e for e in emails if e["ue_type"] in types]
        emails = _search_emails(emails, request.one("search") or "")
        order = (request.one("sort_order") or "desc").lower()
        if order not in ("asc", "desc"):
            raise ValueError("querystring/sort_order must be asc or desc")
        limit, cursor = request.one("limit"), request.one("starting_after")
        return _page(emails, "id", limit, cursor, descending=order == "desc")

    def _reply(self, request: Request) -> Any:
        body = request.json()
        for name in ("reply_to_uuid", "eaccount", "subject", "body"):
            if body.get(name) in (None, ""):
                raise ValueError(f"body must have required property '{name}'")
        if not isinstance(body["subject"], str) or not isinstance(body["body"], dict):
            raise ValueError("body/subject must be a string and body/body an object")
        reply_to = _uuid(body["reply_to_uuid"], "body/reply_to_uuid")
        return self.workspace.reply(reply_to, body["eaccount"], body["subject"], body["body"])

    # --- webhooks --------------------------------------------------------------------------

    def _list_webhooks(self, request: Request) -> Any:
        webhooks = list(self.workspace.webhooks.values())
        for name in ("campaign", "event_type"):
            value = request.one(name)
            if value:
                webhooks = [w for w in webhooks if w[name] == value]
        return _page(webhooks, "id", request.one("limit"), request.one("starting_after"))

    def _create_webhook(self, request: Request) -> Any:
        body = request.json()
        _check_webhook_body(body)
        return self.workspace.create_webhook(body)

    def _update_webhook(self, request: Request, id: str) -> Any:
        body = request.json()
        _check_webhook_body(body)
        return self.workspace.update_webhook(_uuid(id, "params/id"), body)

    def _delete_webhook(self, request: Request, id: str) -> Any:
        return self.workspace.delete_webhook(_uuid(id, "params/id"))

    def _resume_webhook(self, request: Request, id: str) -> Any:
        return self.workspace.set_webhook_status(_uuid(id, "params/id"), True)

    # --- v1 --------------------------------------------------------------------------------

    def _v1_list_campaigns(self, request: Request) -> Any:
        skip = _int_param(request.one("skip"), "skip") or 0
        limit = _int_param(request.one("limit"), "limit") or 100
        campaigns = self.workspace.campaigns[skip : skip + limit]
        return [{"id": c["id"], "name": c["name"]} for c in campaigns]


# --- helpers ---------------------------------------------------------------------------------


def _match(request: Request) -> tuple[str | None, str, dict[str, str]]:
    """Route label ("GET /api/v2/campaigns/{id}"), handler name and path parameters."""
    for method, template, pattern, handler in _COMPILED_ROUTES:
        if method != request.method:
            continue
        match = pattern.match(request.path)
        if match:
            return f"{method} {template}", handler, match.groupdict()
    return None, "", {}


def _page(
    items: list[dict[str, Any]],
    key: str,
    limit: Any,
    cursor: Any,
    descending: bool = False,
) -> dict[str, Any]:
    """One page of `items` in `key` order, Instantly-style.

    The cursor is the key of the last item returned; a full page always carries one, so the
    page after the last full one is empty, as happens with Instantly.
    """
    size = DEFAULT_PAGE_LIMIT if limit in (None, "") else _int_param(limit, "limit")
    if not 1 <= size <= MAX_PAGE_LIMIT:
        raise ValueError(f"limit must be >= 1 and <= {MAX_PAGE_LIMIT}")
    items = sorted(items, key=lambda item: item[key], reverse=descending)
    if cursor not in (None, ""):
        cursor = str(cursor)
        if key == "id":
            _uuid(cursor, "starting_after")
        if descending:
            items = [item for item in items if item[key] < cursor]
        else:
            items = [item for item in items if item[key] > cursor]
    page = items[:size]
    body: dict[str, Any] = {"items": page}
    if len(page) == size:
        body["next_starting_after"] = page[-1][key]
    return body


def _int_param(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be integer")


def _uuid(value: Any, name: str) -> str:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise ValueError(f'{name} must match format "uuid"')
    return value.lower()


def _list_of_strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be an array of strings")
    return value


def _date_range(request: Request) -> tuple[Any, Any]:
    try:
        return parse_date(request.one("start_date")), parse_date(request.one("end_date"))
    except ValueError:
        raise ValueError('querystring/start_date and end_date must match format "date"')


def _search_emails(emails: list[dict[str, Any]], search: str) -> list[dict[str, Any]]:
    """`thread:<id>` finds a thread; anything else matches subject, addresses or preview."""
    if not search:
        return emails
    if search.startswith("thread:"):
        thread_id = search.split(":", 1)[1]
        return [e for e in emails if e["thread_id"] == thread_id]
    needle = search.lower()
    fields = ("subject", "from_address_email", "to_address_email_list", "content_preview")
    return [e for e in emails if any(needle in (e.get(name) or "").lower() for name in fields)]


def _check_webhook_body(body: dict[str, Any]) -> None:
    event_type = body.get("event_type")
    if event_type is not None and event_type not in (*SUBSCRIPTION_EVENT_TYPES, "all_events"):
        raise ValueError(f"body/event_type must be one of the webhook event types: {event_type}")
    if body.get("campaign") is not None:
        _uuid(body["campaign"], "body/campaign")


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
