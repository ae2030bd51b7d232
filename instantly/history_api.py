"""The Instantly calls of the history backfill, the delivery reconciliation and the test
delivery, one page at a time.

`InstantlyClient.paginate` walks a whole listing; a backfill must instead save its place after
every page (the cursor goes into the database with that page's rows), so these functions fetch
one page and answer its items with the next cursor. Pure Python, like the client: no Django.

The Unibox (GET /api/v2/emails) has its own limit of about 20 requests a minute per workspace
(API.md: "likely"), beside the workspace's 6,000: `emails_page` takes a second limiter and a
bucket of its own, shared by every process through Redis like the workspace's budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from instantly.client import InstantlyClient, _segment
from instantly.limiter import RateLimit, RateLimiter
from instantly.schemas import InstantlyModel, Lead, Lenient, Timestamp, UniboxEmail
from instantly.transport import PAGE_LIMIT, _page_items, parse_model

# GET /emails: about 20 requests a minute (API.md: likely). 100 emails a page at most (the
# documented `limit` range 1..100 of every listing), so 50,000 emails take 500 requests: 25
# minutes at the least. Our limiter counts a request when it leaves, Instantly when it
# arrives: a window of 61 s leaves a second for one request's latency to differ from the
# previous one's (at 60 s the benchmark saw a few 429s at the window's edge).
EMAILS_LIMIT = RateLimit(20, 61.0)
EMAILS_PAGE_SIZE = PAGE_LIMIT

M = TypeVar("M", bound=InstantlyModel)


class WebhookDeliveryLog(InstantlyModel):
    """One entry of Instantly's webhook delivery log (GET /api/v2/webhook-events), as its API
    reference's "Webhook Event" schema documents it (sure for the field names; one entry per
    attempt, retries grouped by `retry_group_id`)."""

    id: str
    timestamp_created: Timestamp = None
    payload: Lenient[dict[str, Any]] = None
    success: Lenient[bool] = None
    retry_count: Lenient[int] = None
    will_retry: Lenient[bool] = None
    webhook_url: Lenient[str] = None
    status_code: Lenient[int] = None
    error_message: Lenient[str] = None
    timestamp_next_retry: Timestamp = None
    retry_group_id: Lenient[str] = None
    retry_successful: Lenient[bool] = None


@dataclass
class Page(Generic[M]):
    """One page of a listing and the cursor of the next one ("" when this was the last)."""

    items: list[M] = field(default_factory=list)
    next_cursor: str = ""


def emails_page(
    client: InstantlyClient,
    cursor: str = "",
    *,
    limiter: RateLimiter | None = None,
    limit: int = EMAILS_PAGE_SIZE,
    **filters: Any,
) -> Page[UniboxEmail]:
    """One page of the Unibox, newest first unless `sort_order` says otherwise. `limiter`
    paces the Unibox's own budget (key `<workspace>:emails`); the client's limiter still
    counts the request against the workspace's."""
    params: dict[str, Any] = {"limit": limit, "sort_order": "desc", **filters}
    if cursor:
        params["starting_after"] = cursor
    if limiter is not None:
        limiter.acquire(f"{client.workspace_key}:emails")
    data = client.request("GET", "/emails", params=params)
    return _page(data, "GET", "/emails", UniboxEmail)


def leads_page(
    client: InstantlyClient, campaign_id: str, cursor: str = "", *, limit: int = PAGE_LIMIT
) -> Page[Lead]:
    """One page of a campaign's leads (POST /api/v2/leads/list, paginated in the body)."""
    body: dict[str, Any] = {"campaign": campaign_id, "limit": limit}
    if cursor:
        body["starting_after"] = cursor
    data = client.request("POST", "/leads/list", json=body)
    return _page(data, "POST", "/leads/list", Lead)


def webhook_events_page(
    client: InstantlyClient, cursor: str = "", *, limit: int = PAGE_LIMIT, **filters: Any
) -> Page[WebhookDeliveryLog]:
    """One page of the delivery log, newest first (the order is unconfirmed: callers must not
    rely on it beyond stopping early)."""
    params: dict[str, Any] = {"limit": limit, **filters}
    if cursor:
        params["starting_after"] = cursor
    data = client.request("GET", "/webhook-events", params=params)
    return _page(data, "GET", "/webhook-events", WebhookDeliveryLog)


def send_test_delivery(client: InstantlyClient, webhook_id: str) -> Mapping[str, Any] | None:
    """Ask Instantly to send one test delivery to the subscription's URL
    (POST /api/v2/webhooks/{id}/test, sure). What the test payload looks like is not
    documented (unconfirmed): callers only watch for a delivery arriving."""
    return client.request("POST", f"/webhooks/{_segment(webhook_id)}/test", json={})


def _page(data: Any, method: str, path: str, schema: type[M]) -> Page[M]:
    items, cursor = _page_items(data, method, path)
    parsed = [parse_model(schema, item, method, path) for item in items]
    # The last page may still carry a cursor: an empty page ends the listing.
    return Page(parsed, str(cursor) if parsed and cursor not in (None, "") else "")
