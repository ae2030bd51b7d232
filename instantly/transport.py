"""The HTTP half of the Instantly client: one request, its retries, its errors, its pages.

Pure Python (no Django import) so it runs in scripts, Celery workers and tests alike. Every
request goes through the workspace rate limiter, is retried on 429 / 502 / 503 / 504 and network
errors (Retry-After honoured, else exponential backoff with full jitter, bounded in attempts and
total wait), and fails with a typed `InstantlyError`. Cursor-paginated listings are walked page
by page and answers parsed into `schemas` models. The API key is never logged: log lines carry
method, path, status and elapsed time only; each answer is reported to `on_answer` by endpoint
template and status (`connections.client_for` counts them in the metrics).
`client.InstantlyClient` adds one method per endpoint on top.
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import hashlib
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar
from urllib.parse import quote

import requests
from pydantic import ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception

from instantly.errors import (
    InstantlyConnectionError,
    InstantlyRateLimitedError,
    InstantlyServerError,
    InstantlyUnexpectedResponseError,
    error_for_status,
)
from instantly.limiter import RateLimiter
from instantly.schemas import InstantlyModel
from instantly.text import clean_json

# Named for the client as a whole: operators filter on one logger for all Instantly HTTP.
logger = logging.getLogger("instantly.client")

DEFAULT_BASE_URL = "https://api.instantly.ai"
DEFAULT_USER_AGENT = "Salesbrain/1.0 (+instantly-client)"
API_PREFIX = "/api/v2"
PAGE_LIMIT = 100  # the API's maximum page size
RETRYABLE_SERVER_STATUSES = frozenset({502, 503, 504})

M = TypeVar("M", bound=InstantlyModel)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), else None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request as the transport sends, logs and retries it. `log_path` is what log
    lines show (never the query); `secrets` are redacted from every error message, and what
    may hold a key (headers, query, secrets) stays out of the repr."""

    method: str
    url: str
    log_path: str
    headers: Mapping[str, str] = field(repr=False)
    params: Mapping[str, Any] | None = field(default=None, repr=False)
    json: Any = field(default=None, repr=False)
    secrets: Sequence[str] = field(default=(), repr=False)


class InstantlyTransport:
    """Sends requests to one Instantly workspace with one API key (see `InstantlyClient`).

    `limiter` (see `instantly.limiter`) is shared by every client of the same workspace;
    `workspace_key` names that workspace's budget (defaults to a hash of the key, but pass the
    Instantly workspace id so that several keys of one workspace share it). `sleeper`, `clock`
    and `jitter` are injectable so tests can assert the waits without sleeping.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        workspace_key: str | None = None,
        timeout: float | tuple[float, float] = (5, 30),
        max_attempts: int = 5,
        max_total_wait: float = 60.0,
        retry_after_cap: float = 30.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        sleeper: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        user_agent: str = DEFAULT_USER_AGENT,
        on_answer: Callable[[str, str], None] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an Instantly API key is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.limiter = limiter
        self.workspace_key = workspace_key or (
            "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
        )
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_total_wait = max_total_wait
        self.retry_after_cap = retry_after_cap
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleeper = sleeper
        self._clock = clock
        self._jitter = jitter
        self.user_agent = user_agent
        # HTTP attempts made (retries included), for benchmarks and tests; and how each was
        # answered (status code, or `error` when none came), so a sync can say its 429s.
        self.request_count = 0
        self.answers: collections.Counter[str] = collections.Counter()
        self.on_answer = on_answer
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} workspace={self.workspace_key}>"

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- sending -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry_ambiguous: bool = True,
    ) -> Any:
        """Call `API_PREFIX + path` and return the decoded JSON (None for an empty answer).

        With `retry_ambiguous=False` only 429s are retried: a timeout or a 502 may hide a
        request that was carried out, and some writes (sending an email) must not run twice.
        """
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        call = HttpCall(
            method.upper(),
            self.base_url + API_PREFIX + path,
            log_path=API_PREFIX + path,
            headers=headers,
            params=params,
            json=json,
            secrets=(self._api_key,),
        )
        return self.send(call, retry_ambiguous=retry_ambiguous)

    def send(self, call: HttpCall, *, retry_ambiguous: bool = True) -> Any:
        """Send one call under the retry policy and return its decoded JSON (see `request`)."""

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, InstantlyRateLimitedError):
                return True
            if isinstance(exc, InstantlyServerError):
                return retry_ambiguous and exc.status_code in RETRYABLE_SERVER_STATUSES
            return retry_ambiguous and isinstance(exc, InstantlyConnectionError)

        def log_retry(state: RetryCallState) -> None:
            logger.warning(
                "instantly %s %s: attempt %d/%d failed (%s), retrying in %.2f s",
                call.method,
                call.log_path,
                state.attempt_number,
                self.max_attempts,
                state.outcome.exception() if state.outcome else "?",
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception(should_retry),
            wait=self._wait_before_retry,
            stop=self._should_stop,
            sleep=self._sleeper,
            before_sleep=log_retry,
            reraise=True,
        )
        return retrying(self._send_once, call)

    def _send_once(self, call: HttpCall) -> Any:
        method, log_path, secrets = call.method, call.log_path, call.secrets
        if self.limiter is not None:
            self.limiter.acquire(self.workspace_key)
        with self._count_lock:
            self.request_count += 1
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                call.url,
                params=call.params,
                json=call.json,
                headers=dict(call.headers),
                timeout=self.timeout,
            )
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            self._count_answer(log_path, "error")
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.warning(
                "instantly %s %s -> %s after %.0f ms",
                method,
                log_path,
                type(exc).__name__,
                elapsed_ms,
            )
            detail = _redact(str(exc), secrets)
            # `from None`: requests' own message holds the full URL, which may carry a v1 key.
            raise InstantlyConnectionError(
                f"{type(exc).__name__} on {method} {log_path}: {detail}"
            ) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        status = response.status_code
        self._count_answer(log_path, str(status))
        logger.log(
            logging.DEBUG if status < 400 else logging.WARNING,
            "instantly %s %s -> %d in %.0f ms",
            method,
            log_path,
            status,
            elapsed_ms,
        )
        if status >= 400:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            raise error_for_status(status, _redact(response.text, secrets), retry_after=retry_after)
        return _decode(response, method, log_path, secrets)

    def _count_answer(self, log_path: str, status: str) -> None:
        with self._count_lock:
            self.answers[status] += 1
        if self.on_answer is not None:
            self.on_answer(endpoint_template(log_path), status)

    def _wait_before_retry(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        # Full jitter: spread retrying workers over the whole window instead of in lockstep.
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (state.attempt_number - 1))
        return self._jitter() * ceiling

    def _should_stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.max_attempts:
            return True
        # Give up now rather than sleep past the budget and fail anyway.
        return state.idle_for + state.upcoming_sleep > self.max_total_wait

    # --- pagination --------------------------------------------------------------------------

    def paginate(
        self,
        method: str,
        path: str,
        *,
        item_schema: type[M],
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        limit: int = PAGE_LIMIT,
    ) -> Iterator[M]:
        """Yield every item of a cursor-paginated listing, page by page (lazily).

        GET listings take `limit`/`starting_after` in the query, POST ones (`/leads/list`) in
        the body. Stops on an empty page, a missing cursor, or a cursor already seen (the last
        page may still carry one).
        """
        method = method.upper()
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            page_args: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                page_args["starting_after"] = cursor
            if method == "GET":
                page = self.request(method, path, params={**(params or {}), **page_args})
            else:
                page = self.request(method, path, params=params, json={**(json or {}), **page_args})
            items, next_cursor = _page_items(page, method, path)
            for item in items:
                yield parse_model(item_schema, item, method, path)
            if not items or next_cursor in (None, "") or str(next_cursor) in seen:
                return
            cursor = str(next_cursor)
            seen.add(cursor)

    def _get_list(self, path: str, params: Mapping[str, Any], item_schema: type[M]) -> list[M]:
        data = self.request("GET", path, params=params)
        if data is None:
            return []
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list):
            raise InstantlyUnexpectedResponseError(
                f"GET {API_PREFIX}{path} did not answer a JSON array", body=data
            )
        return [parse_model(item_schema, item, "GET", path) for item in data]

    def _get_one(self, path: str, schema: type[M]) -> M:
        return parse_model(schema, self.request("GET", path), "GET", path)


# --- helpers ---------------------------------------------------------------------------------


# A path segment that is a word of the API (campaigns, analytics, resume) rather than an id
# (a UUID, a number, an e-mail address, percent-encoded or not).
_API_WORD = re.compile(r"^([a-z][a-z_-]{0,39}|v\d)$")


def endpoint_template(log_path: str) -> str:
    """`/api/v2/campaigns/0195.../analytics` -> `/api/v2/campaigns/{id}/analytics`: a metric
    label counts endpoints, not the objects they were called for."""
    segments = log_path.split("?", 1)[0].split("/")
    return "/".join(s if not s or _API_WORD.match(s) else "{id}" for s in segments)


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
    return text


# JSON escapes of a NUL or of a UTF-16 surrogate (paired ones too: cheaper to clean than to tell).
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _decode(response: requests.Response, method: str, path: str, secrets: Sequence[str]) -> Any:
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        decoded = response.json()
    except ValueError:
        raise InstantlyUnexpectedResponseError(
            f"{method} {path} answered HTTP {response.status_code} with a non-JSON body",
            status_code=response.status_code,
            body=_redact(response.text[:500], secrets),
        ) from None
    if _UNSTORABLE_ESCAPE.search(response.content):
        decoded = clean_json(decoded)  # a lone surrogate or a NUL: see instantly.text
    return decoded


def _page_items(page: Any, method: str, path: str) -> tuple[list[Any], Any]:
    if page is None:  # an empty answer is an empty page
        return [], None
    if isinstance(page, list):  # an unpaginated answer: one page, no cursor
        return page, None
    if isinstance(page, dict) and isinstance(page.get("items", []), list):
        return page.get("items") or [], page.get("next_starting_after")
    raise InstantlyUnexpectedResponseError(
        f"{method} {API_PREFIX}{path} did not answer a page of items", body=page
    )


def parse_model(schema: type[M], data: Any, method: str, path: str) -> M:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InstantlyUnexpectedResponseError(
            f"{method} {API_PREFIX}{path}: unexpected {schema.__name__} payload "
            f"({exc.error_count()} error(s))",
            body=data,
        ) from None
