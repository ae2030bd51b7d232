"""The Instantly API v2 client: the only code in Salesbrain that talks HTTP to Instantly.

Pure Python (no Django import) so it runs in scripts, Celery workers and tests alike. Every
request goes through the workspace rate limiter, is retried on 429 / 502 / 503 / 504 and network
errors (Retry-After honoured, else exponential backoff with full jitter, bounded in attempts and
total wait), and fails with a typed `InstantlyError`. Answers come back as `schemas` models.
The API key is never logged: log lines carry method, path, status and elapsed time only.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
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
from instantly.schemas import (
    AccountDailyAnalytics,
    BulkAddLeadsResult,
    Campaign,
    CampaignAnalytics,
    CampaignDailyAnalytics,
    CampaignStepAnalytics,
    EmailAccount,
    InstantlyModel,
    Lead,
    UniboxEmail,
    Webhook,
    Workspace,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.instantly.ai"
DEFAULT_USER_AGENT = "Salesbrain/1.0 (+instantly-client)"
API_PREFIX = "/api/v2"
PAGE_LIMIT = 100  # the API's maximum page size
BULK_ADD_MAX_LEADS = 1000  # POST /leads/add accepts at most this many leads per call
ACCOUNT_ANALYTICS_MAX_EMAILS = 200  # GET /accounts/analytics/daily accepts at most this many
RETRYABLE_SERVER_STATUSES = frozenset({502, 503, 504})

M = TypeVar("M", bound=InstantlyModel)
T = TypeVar("T")
DateLike = dt.date | str


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


def _query(**params: Any) -> dict[str, Any]:
    """Drop unset parameters and spell values the way the API expects them in a query string."""
    query: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dt.date):  # datetime is a date too
            value = value.isoformat()
        query[name] = value
    return query


def _chunks(items: Sequence[T], size: int) -> Iterator[tuple[int, Sequence[T]]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


class InstantlyClient:
    """Talks to one Instantly workspace with one API key.

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
        # HTTP attempts made (retries included), for benchmarks and tests.
        self.request_count = 0
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<InstantlyClient {self.base_url} workspace={self.workspace_key}>"

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> InstantlyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transport ---------------------------------------------------------------------------

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
        return self._send(
            method.upper(),
            self.base_url + API_PREFIX + path,
            log_path=API_PREFIX + path,
            params=params,
            json=json,
            headers=headers,
            retry_ambiguous=retry_ambiguous,
            secrets=(self._api_key,),
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        log_path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str],
        retry_ambiguous: bool,
        secrets: Sequence[str],
    ) -> Any:
        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, InstantlyRateLimitedError):
                return True
            if isinstance(exc, InstantlyServerError):
                return retry_ambiguous and exc.status_code in RETRYABLE_SERVER_STATUSES
            return retry_ambiguous and isinstance(exc, InstantlyConnectionError)

        def log_retry(state: RetryCallState) -> None:
            logger.warning(
                "instantly %s %s: attempt %d/%d failed (%s), retrying in %.2f s",
                method,
                log_path,
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
        return retrying(
            self._send_once,
            method,
            url,
            log_path=log_path,
            params=params,
            json=json,
            headers=headers,
            secrets=secrets,
        )

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        log_path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str],
        secrets: Sequence[str],
    ) -> Any:
        if self.limiter is not None:
            self.limiter.acquire(self.workspace_key)
        with self._count_lock:
            self.request_count += 1
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                headers=dict(headers),
                timeout=self.timeout,
            )
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
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
                yield _parse(item_schema, item, method, path)
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
        return [_parse(item_schema, item, "GET", path) for item in data]

    def _get_one(self, path: str, schema: type[M]) -> M:
        return _parse(schema, self.request("GET", path), "GET", path)

    # --- workspace ---------------------------------------------------------------------------

    def get_current_workspace(self) -> Workspace:
        """The workspace the API key belongs to (also a cheap key check)."""
        return self._get_one("/workspaces/current", Workspace)

    # --- campaigns ---------------------------------------------------------------------------

    def iter_campaigns(
        self, search: str | None = None, status: int | None = None
    ) -> Iterator[Campaign]:
        return self.paginate(
            "GET", "/campaigns", params=_query(search=search, status=status), item_schema=Campaign
        )

    def get_campaign(self, campaign_id: str) -> Campaign:
        return self._get_one(f"/campaigns/{_segment(campaign_id)}", Campaign)

    def get_campaign_analytics(
        self,
        ids: Iterable[str] | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[CampaignAnalytics]:
        """Totals per campaign (all campaigns when `ids` is None; an empty list asks nothing)."""
        id_list = None if ids is None else list(ids)
        if id_list is not None and not id_list:
            return []
        params = _query(ids=id_list, start_date=start_date, end_date=end_date)
        return self._get_list("/campaigns/analytics", params, CampaignAnalytics)

    def get_campaign_daily_analytics(
        self,
        campaign_id: str,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[CampaignDailyAnalytics]:
        params = _query(campaign_id=campaign_id, start_date=start_date, end_date=end_date)
        return self._get_list("/campaigns/analytics/daily", params, CampaignDailyAnalytics)

    def get_campaign_step_analytics(
        self,
        campaign_id: str,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[CampaignStepAnalytics]:
        params = _query(campaign_id=campaign_id, start_date=start_date, end_date=end_date)
        return self._get_list("/campaigns/analytics/steps", params, CampaignStepAnalytics)

    # --- sending mailboxes -------------------------------------------------------------------

    def iter_accounts(
        self,
        search: str | None = None,
        status: int | None = None,
        provider_code: int | None = None,
    ) -> Iterator[EmailAccount]:
        params = _query(search=search, status=status, provider_code=provider_code)
        return self.paginate("GET", "/accounts", params=params, item_schema=EmailAccount)

    def get_account(self, email: str) -> EmailAccount:
        return self._get_one(f"/accounts/{_segment(email)}", EmailAccount)

    def get_account_daily_analytics(
        self,
        emails: Iterable[str] | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[AccountDailyAnalytics]:
        """Daily figures per mailbox; more than 200 mailboxes are asked for in several calls."""
        dates = _query(start_date=start_date, end_date=end_date)
        if emails is None:
            return self._get_list("/accounts/analytics/daily", dates, AccountDailyAnalytics)
        email_list = list(dict.fromkeys(emails))
        rows: list[AccountDailyAnalytics] = []
        for _, chunk in _chunks(email_list, ACCOUNT_ANALYTICS_MAX_EMAILS):
            params = {**dates, "emails": list(chunk)}
            rows.extend(self._get_list("/accounts/analytics/daily", params, AccountDailyAnalytics))
        return rows

    # --- leads -------------------------------------------------------------------------------

    def create_lead(self, campaign_id: str, email: str, **fields: Any) -> Lead:
        """Add one lead; `fields` are first_name, company_name, custom_variables, ..."""
        body = {**fields, "campaign": campaign_id, "email": email}
        return _parse(Lead, self.request("POST", "/leads", json=body), "POST", "/leads")

    def bulk_add_leads(
        self, campaign_id: str, leads: Sequence[Mapping[str, Any]], **options: Any
    ) -> BulkAddLeadsResult:
        """Add many leads, 1,000 per call; counts are summed and `created_leads[].index`
        points into `leads`. `options` (e.g. skip_if_in_campaign) go into every call."""
        results: list[tuple[int, BulkAddLeadsResult]] = []
        for offset, chunk in _chunks(leads, BULK_ADD_MAX_LEADS):
            body = {**options, "campaign_id": campaign_id, "leads": [dict(lead) for lead in chunk]}
            data = self.request("POST", "/leads/add", json=body)
            results.append((offset, _parse(BulkAddLeadsResult, data or {}, "POST", "/leads/add")))
        return BulkAddLeadsResult.combine(results)

    def iter_leads(
        self, campaign_id: str | None = None, search: str | None = None, **filters: Any
    ) -> Iterator[Lead]:
        """Leads via POST /leads/list; `filters` (ids, list_id, ...) go into the body."""
        body = {**filters, "campaign": campaign_id, "search": search}
        body = {key: value for key, value in body.items() if value is not None}
        return self.paginate("POST", "/leads/list", json=body, item_schema=Lead)

    def delete_lead(self, lead_id: str) -> None:
        self.request("DELETE", f"/leads/{_segment(lead_id)}")

    # --- unibox ------------------------------------------------------------------------------

    def iter_emails(
        self,
        campaign_id: str | None = None,
        lead: str | None = None,
        is_unread: bool | None = None,
        email_type: str | None = None,
        search: str | None = None,
        sort_order: str | None = None,
    ) -> Iterator[UniboxEmail]:
        """Unibox emails; `email_type` received/sent/manual, `search` accepts "thread:<id>"."""
        params = _query(
            campaign_id=campaign_id,
            lead=lead,
            is_unread=is_unread,
            email_type=email_type,
            search=search,
            sort_order=sort_order,
        )
        return self.paginate("GET", "/emails", params=params, item_schema=UniboxEmail)

    def reply_to_email(
        self,
        reply_to_uuid: str,
        eaccount: str,
        subject: str,
        text: str | None = None,
        html: str | None = None,
    ) -> UniboxEmail | None:
        """Send a reply in a thread. Not retried when the outcome is unknown (timeout, 502):
        a prospect must never get the same reply twice."""
        if text is None and html is None:
            raise ValueError("a reply needs a text or an html body")
        body = {
            "reply_to_uuid": reply_to_uuid,
            "eaccount": eaccount,
            "subject": subject,
            "body": {
                key: value for key, value in (("text", text), ("html", html)) if value is not None
            },
        }
        data = self.request("POST", "/emails/reply", json=body, retry_ambiguous=False)
        return None if data is None else _parse(UniboxEmail, data, "POST", "/emails/reply")

    # --- webhooks ----------------------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        return list(self.paginate("GET", "/webhooks", item_schema=Webhook))

    def create_webhook(
        self,
        target_hook_url: str,
        event_type: str = "all_events",
        campaign: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Webhook:
        """Subscribe `target_hook_url`; `headers` are sent with every delivery (our secret)."""
        body: dict[str, Any] = {"target_hook_url": target_hook_url, "event_type": event_type}
        if campaign is not None:
            body["campaign"] = campaign
        if headers is not None:
            body["headers"] = dict(headers)
        return _parse(Webhook, self.request("POST", "/webhooks", json=body), "POST", "/webhooks")

    def delete_webhook(self, webhook_id: str) -> None:
        self.request("DELETE", f"/webhooks/{_segment(webhook_id)}")

    def resume_webhook(self, webhook_id: str) -> Webhook | None:
        """Re-enable a subscription Instantly disabled after failed deliveries."""
        path = f"/webhooks/{_segment(webhook_id)}/resume"
        data = self.request("POST", path)
        return None if data is None else _parse(Webhook, data, "POST", path)

    # --- v1 ----------------------------------------------------------------------------------

    def check_v1(self, api_key_v1: str) -> bool:
        """Check a legacy v1 key with the cheapest v1 call; True, or a typed error.

        v1 takes the key as a query parameter, so it is redacted from every error message.
        """
        if not api_key_v1:
            raise ValueError("a v1 API key is required")
        path = "/api/v1/campaign/list"
        self._send(
            "GET",
            self.base_url + path,
            log_path=path,
            params={"api_key": api_key_v1, "limit": 1, "skip": 0},
            json=None,
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            retry_ambiguous=True,
            secrets=(api_key_v1, self._api_key),
        )
        return True


# --- helpers ---------------------------------------------------------------------------------


def _segment(value: str) -> str:
    """Quote one path segment; '@' stays readable as RFC 3986 allows it in paths."""
    return quote(str(value), safe="@")


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
    return text


def _decode(response: requests.Response, method: str, path: str, secrets: Sequence[str]) -> Any:
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        raise InstantlyUnexpectedResponseError(
            f"{method} {path} answered HTTP {response.status_code} with a non-JSON body",
            status_code=response.status_code,
            body=_redact(response.text[:500], secrets),
        ) from None


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


def _parse(schema: type[M], data: Any, method: str, path: str) -> M:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InstantlyUnexpectedResponseError(
            f"{method} {API_PREFIX}{path}: unexpected {schema.__name__} payload "
            f"({exc.error_count()} error(s))",
            body=data,
        ) from None
