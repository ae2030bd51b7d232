"""InstantlyClient against a faked HTTP boundary (`responses`): no network, no sleeping."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from instantly.client import InstantlyClient
from instantly.errors import (
    InstantlyAuthenticationError,
    InstantlyConnectionError,
    InstantlyError,
    InstantlyMissingScopeError,
    InstantlyNotFoundError,
    InstantlyPaymentRequiredError,
    InstantlyRateLimitedError,
    InstantlyServerError,
    InstantlyUnexpectedResponseError,
    InstantlyValidationError,
)
from instantly.schemas import (
    AccountDailyAnalytics,
    BulkAddLeadsResult,
    Campaign,
    CampaignAnalytics,
    CampaignDailyAnalytics,
    CampaignStepAnalytics,
    EmailAccount,
    Lead,
    UniboxEmail,
    Webhook,
    Workspace,
)
from instantly.transport import DEFAULT_USER_AGENT, parse_retry_after

API_KEY = "sk-test-NEVER-LOG-ME-6f1c2d"
V1_KEY = "v1-secret-NEVER-LOG-ME-77aa"
ROOT = "https://api.instantly.test"
BASE = ROOT + "/api/v2"
NOW = 1_750_000_000.0  # the injected wall clock


class RecordingLimiter:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def acquire(self, key: str) -> None:
        self.keys.append(key)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps) -> InstantlyClient:
    return InstantlyClient(
        API_KEY,
        base_url=ROOT,
        sleeper=sleeps.append,
        clock=lambda: NOW,
        jitter=lambda: 0.5,
    )


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def body_of(call) -> dict:
    return json.loads(call.request.body)


# --- transport -----------------------------------------------------------------------------


def test_every_request_carries_bearer_key_user_agent_and_json_accept(http, client):
    http.get(BASE + "/workspaces/current", json={"id": "ws-1", "name": "Agency"})

    client.get_current_workspace()

    headers = http.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["User-Agent"] == DEFAULT_USER_AGENT == "Salesbrain/1.0 (+instantly-client)"
    assert headers["Accept"] == "application/json"


def test_trailing_slash_in_base_url_is_ignored(http, sleeps):
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})
    client = InstantlyClient(API_KEY, base_url=ROOT + "/", sleeper=sleeps.append)

    assert client.get_current_workspace().id == "ws-1"


def test_a_passed_session_is_used_and_not_mutated(http):
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})
    session = requests.Session()
    client = InstantlyClient(API_KEY, base_url=ROOT, session=session)

    client.get_current_workspace()

    assert client.session is session
    assert "Authorization" not in session.headers


def test_missing_api_key_is_refused():
    with pytest.raises(ValueError):
        InstantlyClient("")


def test_every_attempt_goes_through_the_limiter_with_the_workspace_key(http, sleeps):
    http.get(BASE + "/workspaces/current", status=503)
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})
    limiter = RecordingLimiter()
    client = InstantlyClient(
        API_KEY, base_url=ROOT, limiter=limiter, workspace_key="ws-1", sleeper=sleeps.append
    )

    client.get_current_workspace()

    assert limiter.keys == ["ws-1", "ws-1"]


def test_default_workspace_key_is_a_hash_of_the_api_key_not_the_key(http):
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})
    limiter = RecordingLimiter()
    client = InstantlyClient(API_KEY, base_url=ROOT, limiter=limiter)
    other = InstantlyClient(API_KEY + "x", base_url=ROOT)

    client.get_current_workspace()

    assert limiter.keys == [client.workspace_key]
    assert API_KEY not in client.workspace_key
    assert client.workspace_key != other.workspace_key
    assert API_KEY not in repr(client)


def test_request_count_counts_every_http_attempt(http, client):
    http.get(BASE + "/workspaces/current", status=429)
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})
    http.get(BASE + "/campaigns/c-1", json={"id": "c-1"})

    client.get_current_workspace()
    client.get_campaign("c-1")

    assert client.request_count == 3


def test_empty_204_answer_is_none(http, client):
    http.delete(BASE + "/leads/l-1", status=204)

    assert client.delete_lead("l-1") is None


def test_empty_202_answer_is_none(http, client):
    http.post(BASE + "/webhooks/w-1/resume", status=202, body="")

    assert client.resume_webhook("w-1") is None


def test_non_json_success_is_an_unexpected_response(http, client):
    http.get(BASE + "/workspaces/current", body="<html>maintenance</html>", status=200)

    with pytest.raises(InstantlyUnexpectedResponseError) as caught:
        client.get_current_workspace()

    assert caught.value.status_code == 200
    assert "non-JSON" in caught.value.message


def test_payload_without_id_is_an_unexpected_response(http, client):
    http.get(BASE + "/campaigns/c-1", json={"name": "no id"})

    with pytest.raises(InstantlyUnexpectedResponseError) as caught:
        client.get_campaign("c-1")

    assert caught.value.body == {"name": "no id"}


def test_client_module_does_not_import_django():
    code = (
        "import sys, instantly.client, instantly.limiter, instantly.schemas;"
        "sys.exit(1 if 'django' in sys.modules else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()


# --- typed errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "error_name"),
    [
        (400, InstantlyValidationError, "Bad Request"),
        (401, InstantlyAuthenticationError, "Unauthorized"),
        (402, InstantlyPaymentRequiredError, "Payment Required"),
        (403, InstantlyMissingScopeError, "Forbidden"),
        (404, InstantlyNotFoundError, "Not Found"),
        (429, InstantlyRateLimitedError, "Too Many Requests"),
        (500, InstantlyServerError, "Internal Server Error"),
        (503, InstantlyServerError, "Service Unavailable"),
    ],
)
def test_status_maps_to_typed_error_with_message_and_body(
    http, sleeps, status, error_class, error_name
):
    body = {"statusCode": status, "error": error_name, "message": f"server says {status}"}
    http.get(BASE + "/workspaces/current", status=status, json=body)
    client = InstantlyClient(API_KEY, base_url=ROOT, max_attempts=1, sleeper=sleeps.append)

    with pytest.raises(error_class) as caught:
        client.get_current_workspace()

    error = caught.value
    assert type(error) is error_class
    assert isinstance(error, InstantlyError)
    assert error.status_code == status
    assert error.message == f"server says {status}"
    assert error.body == body
    assert str(error) == f"{status}: server says {status}"


def test_validation_error_with_message_only_body_carries_the_message(http, client):
    http.get(
        BASE + "/accounts/analytics/daily",
        status=400,
        json={"message": "Start Date must be earlier than End Date"},
    )

    with pytest.raises(InstantlyValidationError) as caught:
        client.get_account_daily_analytics(start_date="2024-02-01", end_date="2024-01-01")

    assert caught.value.message == "Start Date must be earlier than End Date"


def test_non_json_error_body_is_kept_as_text(http, sleeps):
    http.get(BASE + "/workspaces/current", status=502, body="<html>Bad gateway</html>")
    client = InstantlyClient(API_KEY, base_url=ROOT, max_attempts=1, sleeper=sleeps.append)

    with pytest.raises(InstantlyServerError) as caught:
        client.get_current_workspace()

    assert caught.value.status_code == 502
    assert caught.value.message == "<html>Bad gateway</html>"
    assert caught.value.body == "<html>Bad gateway</html>"


def test_empty_error_body_gets_a_generic_message(http, client):
    http.get(BASE + "/campaigns/nope", status=404, body="")

    with pytest.raises(InstantlyNotFoundError) as caught:
        client.get_campaign("nope")

    assert caught.value.message == "HTTP 404"
    assert caught.value.body is None


def test_other_4xx_is_the_base_error(http, client):
    http.post(BASE + "/webhooks", status=409, json={"message": "conflict"})

    with pytest.raises(InstantlyError) as caught:
        client.create_webhook("https://example.com/hook")

    assert type(caught.value) is InstantlyError
    assert caught.value.status_code == 409


def test_rate_limited_error_carries_retry_after(http, sleeps):
    http.get(BASE + "/workspaces/current", status=429, headers={"Retry-After": "12"}, json={})
    client = InstantlyClient(API_KEY, base_url=ROOT, max_attempts=1, sleeper=sleeps.append)

    with pytest.raises(InstantlyRateLimitedError) as caught:
        client.get_current_workspace()

    assert caught.value.retry_after == 12.0


def test_rate_limited_error_without_header_has_no_retry_after(http, sleeps):
    http.get(BASE + "/workspaces/current", status=429, json={"message": "Rate limit exceeded"})
    client = InstantlyClient(API_KEY, base_url=ROOT, max_attempts=1, sleeper=sleeps.append)

    with pytest.raises(InstantlyRateLimitedError) as caught:
        client.get_current_workspace()

    assert caught.value.retry_after is None
    assert caught.value.message == "Rate limit exceeded"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("connection refused"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
    ],
)
def test_network_failures_are_connection_errors_after_bounded_retries(http, sleeps, failure):
    for _ in range(3):
        http.get(BASE + "/workspaces/current", body=failure)
    client = InstantlyClient(
        API_KEY, base_url=ROOT, max_attempts=3, sleeper=sleeps.append, jitter=lambda: 1.0
    )

    with pytest.raises(InstantlyConnectionError) as caught:
        client.get_current_workspace()

    assert caught.value.status_code is None
    assert type(failure).__name__ in caught.value.message
    assert client.request_count == 3
    assert sleeps == [1.0, 2.0]


# --- retries -------------------------------------------------------------------------------


def test_429_honours_retry_after_seconds(http, client, sleeps):
    http.get(BASE + "/workspaces/current", status=429, headers={"Retry-After": "7"}, json={})
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})

    assert client.get_current_workspace().id == "ws-1"
    assert sleeps == [7.0]


def test_429_honours_retry_after_http_date(http, client, sleeps):
    retry_at = email.utils.formatdate(NOW + 12, usegmt=True)
    http.get(BASE + "/workspaces/current", status=429, headers={"Retry-After": retry_at}, json={})
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})

    client.get_current_workspace()

    assert sleeps == [12.0]


def test_retry_after_is_capped(http, client, sleeps):
    http.get(BASE + "/workspaces/current", status=429, headers={"Retry-After": "3600"}, json={})
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})

    client.get_current_workspace()

    assert sleeps == [30.0]


def test_retry_after_on_503_is_honoured_too(http, client, sleeps):
    http.get(BASE + "/workspaces/current", status=503, headers={"Retry-After": "4"})
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})

    client.get_current_workspace()

    assert sleeps == [4.0]


def test_without_retry_after_backoff_is_exponential_with_full_jitter(http, sleeps):
    jitters = iter([1.0, 0.25, 0.5, 0.0, 1.0])  # the last draw is made, then stop
    for _ in range(5):
        http.get(BASE + "/workspaces/current", status=429, json={})
    client = InstantlyClient(
        API_KEY,
        base_url=ROOT,
        max_attempts=5,
        max_total_wait=1000,
        backoff_base=1.0,
        sleeper=sleeps.append,
        jitter=lambda: next(jitters),
    )

    with pytest.raises(InstantlyRateLimitedError):
        client.get_current_workspace()

    # ceilings 1, 2, 4, 8 seconds, each scaled by the jitter draw
    assert sleeps == [1.0, 0.5, 2.0, 0.0]
    assert client.request_count == 5


def test_backoff_ceiling_is_capped_by_backoff_max(http, sleeps):
    for _ in range(4):
        http.get(BASE + "/workspaces/current", status=503)
    client = InstantlyClient(
        API_KEY,
        base_url=ROOT,
        max_attempts=4,
        max_total_wait=1000,
        backoff_base=10.0,
        backoff_max=15.0,
        sleeper=sleeps.append,
        jitter=lambda: 1.0,
    )

    with pytest.raises(InstantlyServerError):
        client.get_current_workspace()

    assert sleeps == [10.0, 15.0, 15.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(http, client, sleeps, status):
    http.get(BASE + "/workspaces/current", status=status)
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})

    assert client.get_current_workspace().id == "ws-1"
    assert client.request_count == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422, 500])
def test_client_errors_and_500_are_never_retried(http, client, sleeps, status):
    http.get(BASE + "/workspaces/current", status=status, json={"message": "no"})

    with pytest.raises(InstantlyError):
        client.get_current_workspace()

    assert client.request_count == 1
    assert sleeps == []


def test_attempts_are_bounded(http, sleeps):
    for _ in range(3):
        http.get(BASE + "/workspaces/current", status=429, headers={"Retry-After": "1"})
    client = InstantlyClient(API_KEY, base_url=ROOT, max_attempts=3, sleeper=sleeps.append)

    with pytest.raises(InstantlyRateLimitedError):
        client.get_current_workspace()

    assert client.request_count == 3
    assert sleeps == [1.0, 1.0]


def test_total_wait_is_bounded(http, sleeps):
    for _ in range(2):
        http.get(BASE + "/workspaces/current", status=429, headers={"Retry-After": "6"})
    client = InstantlyClient(
        API_KEY, base_url=ROOT, max_attempts=10, max_total_wait=10.0, sleeper=sleeps.append
    )

    with pytest.raises(InstantlyRateLimitedError):
        client.get_current_workspace()

    # a second 6 s wait would exceed the 10 s budget: give up instead of sleeping
    assert sleeps == [6.0]
    assert client.request_count == 2


def test_network_error_then_success_is_retried(http, client, sleeps):
    http.get(BASE + "/workspaces/current", body=requests.ConnectionError("reset"))
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})

    assert client.get_current_workspace().id == "ws-1"
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    "failure",
    [{"status": 503}, {"status": 502}, {"body": requests.exceptions.ReadTimeout("slow")}],
)
def test_reply_is_not_retried_when_the_outcome_is_unknown(http, client, sleeps, failure):
    http.post(BASE + "/emails/reply", **failure)

    with pytest.raises((InstantlyServerError, InstantlyConnectionError)):
        client.reply_to_email("e-1", "me@agency.com", "Re: hi", text="Thanks")

    assert client.request_count == 1
    assert sleeps == []


def test_reply_is_retried_after_429(http, client, sleeps):
    http.post(BASE + "/emails/reply", status=429, headers={"Retry-After": "2"})
    http.post(BASE + "/emails/reply", json={"id": "e-2"})

    assert client.reply_to_email("e-1", "me@agency.com", "Re: hi", text="Thanks").id == "e-2"
    assert sleeps == [2.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("inf", None),
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header, NOW) == expected


# --- pagination ----------------------------------------------------------------------------


def serve_pages(http, method: str, url: str, pages: list[dict]) -> None:
    """Answer `pages` in order; one request too many fails the test instead of looping."""
    remaining = list(pages)

    def answer(request):
        if not remaining:
            raise AssertionError(f"paginated past the last page: {request.url}")
        return 200, {}, json.dumps(remaining.pop(0))

    http.add_callback(method, url, callback=answer)


def test_pagination_follows_the_cursor_until_it_is_missing(http, client):
    serve_pages(
        http,
        responses.GET,
        BASE + "/campaigns",
        [
            {"items": [{"id": "c1"}, {"id": "c2"}], "next_starting_after": "c2"},
            {"items": [{"id": "c3"}]},
        ],
    )

    campaigns = list(client.iter_campaigns())

    assert [c.id for c in campaigns] == ["c1", "c2", "c3"]
    assert all(isinstance(c, Campaign) for c in campaigns)
    assert query_of(http.calls[0]) == {"limit": ["100"]}
    assert query_of(http.calls[1]) == {"limit": ["100"], "starting_after": ["c2"]}


def test_pagination_stops_on_an_empty_page_even_with_a_cursor(http, client):
    serve_pages(
        http, responses.GET, BASE + "/campaigns", [{"items": [], "next_starting_after": "c9"}]
    )

    assert list(client.iter_campaigns()) == []
    assert client.request_count == 1


def test_pagination_stops_on_a_null_cursor(http, client):
    serve_pages(
        http,
        responses.GET,
        BASE + "/campaigns",
        [{"items": [{"id": "c1"}], "next_starting_after": None}],
    )

    assert [c.id for c in client.iter_campaigns()] == ["c1"]
    assert client.request_count == 1


def test_pagination_stops_on_a_repeated_cursor(http, client):
    serve_pages(
        http,
        responses.GET,
        BASE + "/campaigns",
        [
            {"items": [{"id": "c1"}], "next_starting_after": "c1"},
            {"items": [{"id": "c2"}], "next_starting_after": "c1"},
        ],
    )

    assert [c.id for c in client.iter_campaigns()] == ["c1", "c2"]
    assert client.request_count == 2


def test_last_page_with_a_cursor_ends_on_the_following_empty_page(http, client):
    serve_pages(
        http,
        responses.GET,
        BASE + "/campaigns",
        [
            {"items": [{"id": "c1"}], "next_starting_after": "c1"},
            {"items": [{"id": "c2"}], "next_starting_after": "c2"},
            {"items": [], "next_starting_after": "c2"},
        ],
    )

    assert [c.id for c in client.iter_campaigns()] == ["c1", "c2"]
    assert query_of(http.calls[2])["starting_after"] == ["c2"]


def test_pagination_is_lazy(http, client):
    http.get(BASE + "/campaigns", json={"items": [{"id": "c1"}], "next_starting_after": "c1"})

    campaigns = client.iter_campaigns()
    assert client.request_count == 0

    assert next(campaigns).id == "c1"
    assert client.request_count == 1
    http.reset()  # the second page is never asked for


def test_timestamp_cursor_is_passed_back_verbatim(http, client):
    http.get(
        BASE + "/emails",
        json={"items": [{"id": "e1"}], "next_starting_after": "2025-01-01T10:00:00.000Z"},
    )
    http.get(BASE + "/emails", json={"items": []})

    list(client.iter_emails())

    assert query_of(http.calls[1])["starting_after"] == ["2025-01-01T10:00:00.000Z"]


def test_page_that_is_not_a_page_is_an_unexpected_response(http, client):
    http.get(BASE + "/campaigns", json={"items": "nope"})

    with pytest.raises(InstantlyUnexpectedResponseError):
        list(client.iter_campaigns())


def test_generic_paginate_with_custom_limit(http, client):
    http.get(BASE + "/accounts", json={"items": [{"email": "a@x.com"}]})

    accounts = list(
        client.paginate(
            "GET", "/accounts", params={"status": 1}, item_schema=EmailAccount, limit=10
        )
    )

    assert [a.email for a in accounts] == ["a@x.com"]
    assert query_of(http.calls[0]) == {"status": ["1"], "limit": ["10"]}


# --- workspace and campaigns ---------------------------------------------------------------


def test_get_current_workspace(http, client):
    http.get(
        BASE + "/workspaces/current",
        json={"id": "ws-1", "name": "Agency", "plan_id": "pid_hg_v1", "extra": 1},
    )

    workspace = client.get_current_workspace()

    assert isinstance(workspace, Workspace)
    assert (workspace.id, workspace.name, workspace.plan_id) == ("ws-1", "Agency", "pid_hg_v1")
    assert workspace.raw["extra"] == 1


def test_iter_campaigns_sends_filters(http, client):
    http.get(BASE + "/campaigns", json={"items": [{"id": "c1", "status": 1}]})

    campaigns = list(client.iter_campaigns(search="Q3", status=1))

    assert campaigns[0].status == 1
    assert query_of(http.calls[0]) == {"search": ["Q3"], "status": ["1"], "limit": ["100"]}


def test_get_campaign(http, client):
    http.get(BASE + "/campaigns/c-1", json={"id": "c-1", "name": "Q3", "daily_limit": "50"})

    campaign = client.get_campaign("c-1")

    assert (campaign.id, campaign.name, campaign.daily_limit) == ("c-1", "Q3", 50)


def test_get_campaign_analytics_sends_repeated_ids_and_dates(http, client):
    http.get(
        BASE + "/campaigns/analytics",
        json=[{"campaign_id": "c1", "emails_sent_count": 10}, {"campaign_id": "c2"}],
    )

    rows = client.get_campaign_analytics(
        ids=["c1", "c2"], start_date=dt.date(2025, 1, 1), end_date="2025-01-31"
    )

    assert [r.campaign_id for r in rows] == ["c1", "c2"]
    assert isinstance(rows[0], CampaignAnalytics)
    assert rows[0].emails_sent_count == 10
    assert query_of(http.calls[0]) == {
        "ids": ["c1", "c2"],
        "start_date": ["2025-01-01"],
        "end_date": ["2025-01-31"],
    }


def test_campaign_analytics_before_first_send_is_an_empty_list(http, client):
    http.get(BASE + "/campaigns/analytics", json=[])

    assert client.get_campaign_analytics() == []
    assert query_of(http.calls[0]) == {}


def test_campaign_analytics_for_no_ids_asks_nothing(http, client):
    assert client.get_campaign_analytics(ids=[]) == []
    assert client.request_count == 0


def test_campaign_analytics_object_instead_of_array_is_unexpected(http, client):
    http.get(BASE + "/campaigns/analytics", json={"campaign_id": "c1"})

    with pytest.raises(InstantlyUnexpectedResponseError):
        client.get_campaign_analytics()


def test_get_campaign_daily_analytics_sends_campaign_id(http, client):
    http.get(
        BASE + "/campaigns/analytics/daily",
        json=[{"date": "2025-03-01", "sent": 5, "unique_replies": "2"}],
    )

    rows = client.get_campaign_daily_analytics("c-1", start_date="2025-03-01")

    assert isinstance(rows[0], CampaignDailyAnalytics)
    assert (rows[0].date, rows[0].sent, rows[0].unique_replies) == (dt.date(2025, 3, 1), 5, 2)
    assert query_of(http.calls[0]) == {"campaign_id": ["c-1"], "start_date": ["2025-03-01"]}


def test_get_campaign_step_analytics(http, client):
    http.get(
        BASE + "/campaigns/analytics/steps",
        json=[{"step": "1", "variant": "0", "sent": 30}, {"step": None, "variant": None}],
    )

    rows = client.get_campaign_step_analytics("c-1", end_date="2025-03-31")

    assert isinstance(rows[0], CampaignStepAnalytics)
    assert (rows[0].step, rows[0].variant, rows[0].sent) == (1, 0, 30)
    assert rows[1].step is None
    # Opportunities per step come only when asked for: always asked.
    assert query_of(http.calls[0]) == {
        "campaign_id": ["c-1"],
        "end_date": ["2025-03-31"],
        "include_opportunities_count": ["true"],
    }


# --- sending mailboxes ---------------------------------------------------------------------


def test_iter_accounts_sends_filters(http, client):
    http.get(BASE + "/accounts", json={"items": [{"email": "a@x.com", "status": -1}]})

    accounts = list(client.iter_accounts(search="x.com", status=-1, provider_code=2))

    assert accounts[0].status == -1
    assert query_of(http.calls[0]) == {
        "search": ["x.com"],
        "status": ["-1"],
        "provider_code": ["2"],
        "limit": ["100"],
    }


def test_get_account_quotes_the_email_in_the_path(http, client):
    http.get(BASE + "/accounts/first.last%2Btag@x.com", json={"email": "first.last+tag@x.com"})

    account = client.get_account("first.last+tag@x.com")

    assert isinstance(account, EmailAccount)
    assert account.email == "first.last+tag@x.com"
    assert urlsplit(http.calls[0].request.url).path == "/api/v2/accounts/first.last%2Btag@x.com"


def test_get_account_daily_analytics_sends_repeated_emails(http, client):
    http.get(
        BASE + "/accounts/analytics/daily",
        json=[{"date": "2025-01-02", "email_account": "a@x.com", "sent": 40}],
    )

    rows = client.get_account_daily_analytics(
        emails=["a@x.com", "b@x.com"], start_date="2025-01-01", end_date="2025-01-31"
    )

    assert isinstance(rows[0], AccountDailyAnalytics)
    assert (rows[0].email_account, rows[0].sent) == ("a@x.com", 40)
    assert query_of(http.calls[0]) == {
        "emails": ["a@x.com", "b@x.com"],
        "start_date": ["2025-01-01"],
        "end_date": ["2025-01-31"],
    }


def test_account_daily_analytics_for_many_mailboxes_is_split_by_200(http, client):
    emails = [f"box{i}@x.com" for i in range(450)]
    for _ in range(3):
        http.get(BASE + "/accounts/analytics/daily", json=[{"email_account": "any", "sent": 1}])

    rows = client.get_account_daily_analytics(emails=emails)

    assert len(rows) == 3
    sizes = [len(query_of(call)["emails"]) for call in http.calls]
    assert sizes == [200, 200, 50]
    assert query_of(http.calls[2])["emails"][-1] == "box449@x.com"


# --- leads ---------------------------------------------------------------------------------


def test_create_lead_sends_campaign_and_fields(http, client):
    http.post(BASE + "/leads", json={"id": "l-1", "email": "p@co.com", "campaign": "c-1"})

    lead = client.create_lead("c-1", "p@co.com", first_name="Pat", custom_variables={"plan": "pro"})

    assert isinstance(lead, Lead)
    assert lead.id == "l-1"
    assert body_of(http.calls[0]) == {
        "campaign": "c-1",
        "email": "p@co.com",
        "first_name": "Pat",
        "custom_variables": {"plan": "pro"},
    }


def _bulk_answer(request):
    body = json.loads(request.body)
    leads = body["leads"]
    answer = {
        "status": "success",
        "total_sent": len(leads),
        "leads_uploaded": len(leads) - 1,
        "duplicated_leads": 1,
        "in_blocklist": 0,
        # The id of the block list applied (a UUID in the API reference), not a count.
        "blocklist_used": "019d9c5f-0000-7000-8000-00000000b10c",
        "invalid_email_count": 0,
        "skipped_count": 0,
        "remaining_in_plan": 10_000,
        "created_leads": [
            {"id": f"id-{lead['email']}", "email": lead["email"], "index": i}
            for i, lead in enumerate(leads[1:], start=1)
        ],
    }
    return 200, {}, json.dumps(answer)


def test_bulk_add_of_2500_leads_makes_three_calls_and_sums_them(http, client):
    http.add_callback(responses.POST, BASE + "/leads/add", callback=_bulk_answer)
    leads = [{"email": f"p{i}@co.com", "first_name": f"P{i}"} for i in range(2500)]

    result = client.bulk_add_leads("c-1", leads, skip_if_in_campaign=True)

    sizes = [len(body_of(call)["leads"]) for call in http.calls]
    assert sizes == [1000, 1000, 500]
    assert all(body_of(call)["campaign_id"] == "c-1" for call in http.calls)
    assert all(body_of(call)["skip_if_in_campaign"] is True for call in http.calls)
    assert body_of(http.calls[2])["leads"][0]["email"] == "p2000@co.com"
    assert isinstance(result, BulkAddLeadsResult)
    assert result.total_sent == 2500
    assert result.leads_uploaded == 2497
    assert result.duplicated_leads == 3
    assert result.remaining_in_plan == 10_000
    assert result.blocklist_used == "019d9c5f-0000-7000-8000-00000000b10c"  # kept, not summed
    assert len(result.created_leads) == 2497
    # indexes point into the caller's list, not into each chunk
    for created in result.created_leads:
        assert leads[created.index]["email"] == created.email


def test_bulk_add_of_nothing_makes_no_call(http, client):
    result = client.bulk_add_leads("c-1", [])

    assert client.request_count == 0
    assert result.leads_uploaded == 0
    assert result.created_leads == []


def test_iter_leads_posts_filters_and_cursor_in_the_body(http, client):
    http.post(BASE + "/leads/list", json={"items": [{"id": "l1"}], "next_starting_after": "l1"})
    http.post(BASE + "/leads/list", json={"items": [{"id": "l2"}]})

    leads = list(client.iter_leads(campaign_id="c-1", search="acme"))

    assert [lead.id for lead in leads] == ["l1", "l2"]
    assert body_of(http.calls[0]) == {"campaign": "c-1", "search": "acme", "limit": 100}
    assert body_of(http.calls[1]) == {
        "campaign": "c-1",
        "search": "acme",
        "limit": 100,
        "starting_after": "l1",
    }
    assert urlsplit(http.calls[0].request.url).query == ""


def test_delete_lead(http, client):
    http.delete(BASE + "/leads/l-1", json={"id": "l-1"})

    assert client.delete_lead("l-1") is None
    assert http.calls[0].request.method == "DELETE"
    assert http.calls[0].request.body is None  # an empty JSON body would be a 400


# --- unibox --------------------------------------------------------------------------------


def test_iter_emails_sends_filters(http, client):
    http.get(
        BASE + "/emails",
        json={"items": [{"id": "e1", "is_unread": 1, "body": {"text": "hi"}}]},
    )

    emails = list(
        client.iter_emails(
            campaign_id="c-1",
            lead="p@co.com",
            is_unread=True,
            email_type="received",
            search="thread:t-1",
            sort_order="asc",
        )
    )

    assert isinstance(emails[0], UniboxEmail)
    assert emails[0].is_unread is True
    assert emails[0].body.text == "hi"
    assert query_of(http.calls[0]) == {
        "campaign_id": ["c-1"],
        "lead": ["p@co.com"],
        "is_unread": ["true"],
        "email_type": ["received"],
        "search": ["thread:t-1"],
        "sort_order": ["asc"],
        "limit": ["100"],
    }


def test_reply_to_email_sends_the_documented_body(http, client):
    http.post(BASE + "/emails/reply", json={"id": "e-2", "thread_id": "t-1"})

    sent = client.reply_to_email(
        "e-1", "me@agency.com", "Re: hello", text="Thanks!", html="<p>Thanks!</p>"
    )

    assert sent.id == "e-2"
    assert body_of(http.calls[0]) == {
        "reply_to_uuid": "e-1",
        "eaccount": "me@agency.com",
        "subject": "Re: hello",
        "body": {"text": "Thanks!", "html": "<p>Thanks!</p>"},
    }


def test_reply_without_a_body_is_refused_before_any_call(client):
    with pytest.raises(ValueError):
        client.reply_to_email("e-1", "me@agency.com", "Re: hello")
    assert client.request_count == 0


# --- webhooks ------------------------------------------------------------------------------


def test_list_webhooks_reads_every_page(http, client):
    http.get(BASE + "/webhooks", json={"items": [{"id": "w1"}], "next_starting_after": "w1"})
    http.get(BASE + "/webhooks", json={"items": [{"id": "w2", "status": -1}]})

    webhooks = client.list_webhooks()

    assert [w.id for w in webhooks] == ["w1", "w2"]
    assert isinstance(webhooks[1], Webhook)
    assert webhooks[1].status == -1


def test_create_webhook_sends_url_event_campaign_and_headers(http, client):
    http.post(BASE + "/webhooks", json={"id": "w1", "event_type": "all_events"})

    webhook = client.create_webhook(
        "https://sb.example.com/hooks/instantly",
        campaign="c-1",
        headers={"X-Salesbrain-Secret": "s3cret"},
    )

    assert webhook.id == "w1"
    assert body_of(http.calls[0]) == {
        "target_hook_url": "https://sb.example.com/hooks/instantly",
        "event_type": "all_events",
        "campaign": "c-1",
        "headers": {"X-Salesbrain-Secret": "s3cret"},
    }


def test_create_webhook_for_all_campaigns_omits_campaign_and_headers(http, client):
    http.post(BASE + "/webhooks", json={"id": "w1"})

    client.create_webhook("https://sb.example.com/hooks/instantly", event_type="reply_received")

    assert body_of(http.calls[0]) == {
        "target_hook_url": "https://sb.example.com/hooks/instantly",
        "event_type": "reply_received",
    }


def test_delete_webhook(http, client):
    http.delete(BASE + "/webhooks/w1", json={"id": "w1"})

    assert client.delete_webhook("w1") is None
    assert http.calls[0].request.method == "DELETE"


def test_resume_webhook_posts_without_a_body(http, client):
    http.post(BASE + "/webhooks/w1/resume", json={"id": "w1", "status": 1})

    webhook = client.resume_webhook("w1")

    assert webhook.status == 1
    assert http.calls[0].request.body is None


# --- v1 ------------------------------------------------------------------------------------


def test_check_v1_makes_a_cheap_v1_call_with_the_key_as_query_param(http, client):
    http.get(ROOT + "/api/v1/campaign/list", json=[{"id": "c1", "name": "Q3"}])

    assert client.check_v1(V1_KEY) is True
    request = http.calls[0].request
    assert query_of(http.calls[0]) == {"api_key": [V1_KEY], "limit": ["1"], "skip": ["0"]}
    assert "Authorization" not in request.headers  # the v2 key has no business on v1
    assert request.headers["User-Agent"] == DEFAULT_USER_AGENT


def test_check_v1_with_a_bad_key_raises_authentication_error_without_the_key(http, client):
    http.get(
        ROOT + "/api/v1/campaign/list",
        status=401,
        json={"error": f"Invalid API key {V1_KEY}"},
    )

    with pytest.raises(InstantlyAuthenticationError) as caught:
        client.check_v1(V1_KEY)

    assert V1_KEY not in str(caught.value)
    assert V1_KEY not in json.dumps(caught.value.body)


# --- secrets never logged ------------------------------------------------------------------


def _all_log_text(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_api_keys_never_reach_logs_or_error_messages(http, caplog, sleeps):
    caplog.set_level(logging.DEBUG)
    client = InstantlyClient(API_KEY, base_url=ROOT, sleeper=sleeps.append, jitter=lambda: 0.0)
    http.get(BASE + "/workspaces/current", json={"id": "ws-1"})
    http.get(
        BASE + "/campaigns/c-1",
        status=429,
        json={"message": f"slow down {API_KEY}"},
        headers={"Retry-After": "1"},
    )
    http.get(BASE + "/campaigns/c-1", status=401, json={"message": f"bad key {API_KEY}"})
    leaked_url = f"{ROOT}/api/v1/campaign/list?api_key={V1_KEY}&limit=1"
    http.get(
        ROOT + "/api/v1/campaign/list",
        body=requests.ConnectionError(f"Max retries exceeded with url: {leaked_url}"),
    )

    client.get_current_workspace()
    with pytest.raises(InstantlyAuthenticationError) as auth_error:
        client.get_campaign("c-1")
    with pytest.raises(InstantlyConnectionError) as connection_error:
        InstantlyClient(API_KEY, base_url=ROOT, max_attempts=1).check_v1(V1_KEY)

    logged = _all_log_text(caplog)
    assert "GET /api/v2/workspaces/current -> 200" in logged  # method, path, status are logged
    assert "GET /api/v2/campaigns/c-1 -> 429" in logged
    assert "/api/v1/campaign/list -> ConnectionError" in logged
    for secret in (API_KEY, V1_KEY):
        assert secret not in logged
        assert secret not in str(auth_error.value)
        assert secret not in str(connection_error.value)
        assert secret not in repr(connection_error.value.__cause__)
    assert connection_error.value.__cause__ is None
    assert "***" in str(connection_error.value)
