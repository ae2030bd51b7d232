"""The local Instantly sandbox: generated workspace, API stand-in, webhook traffic, command.

No database: the sandbox is served from a thread with `SandboxServer` and talked to with
`requests`, the way end-to-end tests and benchmarks use it. Time is injected, never slept.
"""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management.base import CommandError

from instantly.client import InstantlyClient
from instantly.management.commands.instantly_sandbox import Command
from instantly.sandbox import (
    ALL_EVENT_TYPES,
    CUSTOM_LABEL,
    CUSTOM_LABEL_NAMES,
    LEGACY_ALIASES,
    SUBSCRIPTION_EVENT_TYPES,
    WEBHOOK_AUTH_HEADER,
    SandboxApp,
    SandboxServer,
    SandboxWorkspace,
    generate_deliveries,
    post_deliveries,
)
from instantly.sandbox.server import RateLimiter

KEY = "sandbox-key"
SECRET = "s3cret"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> SandboxApp:
    return SandboxApp(SandboxWorkspace(seed=3), clock=clock)


@pytest.fixture
def server(app: SandboxApp):
    with SandboxServer(app) as running:
        yield running


@pytest.fixture
def api(server: SandboxServer):
    """A session speaking to /api/v2 with the sandbox key; `api.url(path)` builds URLs."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    session.url = lambda path: f"{server.base_url}/api/v2{path}"
    yield session
    session.close()


def walk(api, path: str, **params) -> list[dict]:
    """Follow next_starting_after the way Instantly clients do, stopping on an empty page."""
    items, cursor, pages = [], None, 0
    while True:
        query = dict(params, **({"starting_after": cursor} if cursor else {}))
        response = api.get(api.url(path), params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        pages += 1
        assert pages < 1000, "pagination does not end"
        cursor = page.get("next_starting_after")
        if not page["items"] or not cursor:
            return items


# --- the generated workspace -------------------------------------------------------------------


def test_same_seed_and_sizes_give_byte_identical_data():
    first = json.dumps(SandboxWorkspace(seed=7, campaigns=6, accounts=9).export(), sort_keys=True)
    again = json.dumps(SandboxWorkspace(seed=7, campaigns=6, accounts=9).export(), sort_keys=True)
    other = json.dumps(SandboxWorkspace(seed=8, campaigns=6, accounts=9).export(), sort_keys=True)
    assert first == again
    assert first != other


def test_workspace_shows_every_status_code():
    workspace = SandboxWorkspace()
    campaigns, accounts, leads = workspace.campaigns, workspace.accounts, workspace.leads()

    assert {c["status"] for c in campaigns} >= {0, 1, 2, 3, 4, -1, -2, -99}
    assert {a["status"] for a in accounts} >= {1, 2, -1, -2, -3}
    assert {a["warmup_status"] for a in accounts} >= {0, 1, -1, -2, -3}
    assert {a["provider_code"] for a in accounts} == {1, 2, 3, 4}
    assert {lead["status"] for lead in leads} >= {1, 2, 3, -1, -2, -3}
    assert {lead.get("lt_interest_status") for lead in leads} >= {0, 1, 2, 3, 4, -1, -2, -3, -4}
    for account in accounts:
        assert 0 <= account["stat_warmup_score"] <= 100
        if account["status"] < 0:
            assert {"code", "e_message", "responseCode"} <= set(account["status_message"])
        else:
            assert "status_message" not in account


def test_campaigns_have_schedule_sequences_and_senders_from_the_workspace():
    workspace = SandboxWorkspace()
    emails = {a["email"] for a in workspace.accounts}
    for campaign in workspace.campaigns:
        steps = campaign["sequences"][0]["steps"]
        assert 1 <= len(steps) <= 4
        assert all(1 <= len(step["variants"]) <= 3 for step in steps)
        assert campaign["campaign_schedule"]["schedules"][0]["timing"]["from"] == "09:00"
        assert campaign["email_list"] and set(campaign["email_list"]) <= emails


def test_a_thousand_campaigns_and_five_thousand_accounts_can_be_built():
    # How fast is measured by bench/sync_full.py, not asserted here (CI machines vary).
    workspace = SandboxWorkspace(campaigns=1000, accounts=5000)

    assert len(workspace.campaigns) == 1000 and len(workspace.accounts) == 5000


def test_moving_now_moves_timestamps_but_keeps_ids():
    anchored = SandboxWorkspace(campaigns=3)
    later = SandboxWorkspace(campaigns=3, now=datetime(2030, 1, 1, tzinfo=UTC))

    assert [c["id"] for c in anchored.campaigns] == [c["id"] for c in later.campaigns]
    assert [e["id"] for e in anchored.emails()] == [e["id"] for e in later.emails()]
    assert later.emails()[-1]["timestamp_email"].startswith("2029-12")


def test_analytics_agree_with_the_unibox_and_with_each_other():
    workspace = SandboxWorkspace(seed=5)
    for campaign in workspace.campaigns:
        rows = workspace.campaign_analytics([campaign["id"]])
        sent = [e for e in workspace.emails(campaign["id"]) if e["ue_type"] == 1]
        if not sent:
            assert rows == []  # Instantly answers an empty array before the first send
            continue
        (total,) = rows
        daily = workspace.campaign_daily_analytics(campaign["id"])
        steps = workspace.campaign_step_analytics(campaign["id"])
        assert total["emails_sent_count"] == len(sent)
        assert sum(row["sent"] for row in daily) == len(sent)
        assert sum(row["sent"] for row in steps) == len(sent)
        assert sum(row["opened"] for row in daily) == total["open_count"]
        assert total["leads_count"] == len(workspace.leads(campaign["id"]))


def test_emails_per_campaign_caps_what_the_unibox_lists_but_not_the_analytics():
    capped = SandboxWorkspace(campaigns=2, emails_per_campaign=3)
    full = SandboxWorkspace(campaigns=2)
    campaign = capped.campaigns[0]["id"]

    assert capped.emails(campaign) == full.emails(campaign)[:3]
    assert capped.campaign_analytics() == full.campaign_analytics()


def test_daily_rows_cover_the_last_thirty_days_only():
    workspace = SandboxWorkspace()
    days = {row["date"] for row in workspace.campaign_daily_analytics()}
    oldest = (workspace.now - timedelta(days=31)).date().isoformat()
    assert days and min(days) >= oldest and max(days) <= workspace.now.date().isoformat()


# --- auth, pagination, errors ------------------------------------------------------------------


def test_a_missing_or_wrong_key_answers_401_in_instantly_shape(server, api):
    url = api.url("/campaigns")
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": KEY}):
        response = requests.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["statusCode"] == 401
        assert response.json()["error"] == "Unauthorized"
        assert response.json()["message"]


def test_v1_takes_its_own_key_in_the_query(server, api):
    v1 = f"{server.base_url}/api/v1/campaign/list"
    assert requests.get(v1, params={"api_key": "sandbox-v1-key", "limit": 2}).status_code == 200
    assert len(requests.get(v1, params={"api_key": "sandbox-v1-key", "limit": 2}).json()) == 2
    assert requests.get(v1, params={"api_key": KEY}).status_code == 401
    v1_on_v2 = requests.get(
        api.url("/campaigns"), headers={"Authorization": "Bearer sandbox-v1-key"}
    )
    assert v1_on_v2.status_code == 401


@pytest.mark.parametrize("limit", [1, 3, 5, 7, 20, 100])
def test_pagination_walks_every_campaign_exactly_once(app, api, limit):
    items = walk(api, "/campaigns", limit=limit)
    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids))
    assert set(ids) == {c["id"] for c in app.workspace.campaigns}


def test_a_full_last_page_still_carries_a_cursor_and_the_next_page_is_empty(api):
    first = api.get(api.url("/campaigns"), params={"limit": 20}).json()
    assert len(first["items"]) == 20 and first["next_starting_after"]
    after = {"limit": 20, "starting_after": first["next_starting_after"]}
    assert api.get(api.url("/campaigns"), params=after).json() == {"items": []}


def test_campaign_filters_search_and_status(app, api):
    paused = walk(api, "/campaigns", limit=100, status=2)
    assert paused and all(c["status"] == 2 for c in paused)
    name = app.workspace.campaigns[4]["name"]
    found = walk(api, "/campaigns", limit=100, search=name.upper())
    assert name in [c["name"] for c in found]


def test_accounts_page_by_email_and_filter(app, api):
    accounts = walk(api, "/accounts", limit=7)
    assert [a["email"] for a in accounts] == sorted(a["email"] for a in app.workspace.accounts)
    google = walk(api, "/accounts", limit=100, provider_code=2)
    assert google and all(a["provider_code"] == 2 for a in google)
    errors = walk(api, "/accounts", limit=100, status=-1)
    assert errors and all(a["status_message"]["code"] for a in errors)
    email = accounts[0]["email"]
    assert api.get(api.url(f"/accounts/{email}")).json()["email"] == email


def test_unknown_ids_answer_404(api):
    missing = "01900000-0000-7000-8000-000000000000"
    for method, path in (
        ("GET", f"/campaigns/{missing}"),
        ("GET", "/accounts/nobody@nowhere.example"),
        ("DELETE", f"/leads/{missing}"),
        ("DELETE", f"/webhooks/{missing}"),
        ("POST", f"/webhooks/{missing}/resume"),
        ("GET", "/no-such-endpoint"),
    ):
        response = api.request(method, api.url(path))
        assert response.status_code == 404, (method, path)
        assert response.json()["statusCode"] == 404


@pytest.mark.parametrize(
    "method, path, params, body",
    [
        ("GET", "/campaigns", {"limit": 0}, None),
        ("GET", "/campaigns", {"limit": 101}, None),
        ("GET", "/campaigns", {"starting_after": "not-a-uuid"}, None),
        ("GET", "/campaigns/not-a-uuid", {}, None),
        ("GET", "/campaigns/analytics", {"start_date": "yesterday"}, None),
        ("GET", "/emails", {"email_type": "spam"}, None),
        ("POST", "/leads", {}, {"email": "a@b.example"}),
        ("POST", "/webhooks", {}, {"event_type": "email_sent"}),
        ("POST", "/webhooks", {}, {"target_hook_url": "ftp://x", "event_type": "email_sent"}),
        ("POST", "/webhooks", {}, {"target_hook_url": "https://x.example", "event_type": "nope"}),
    ],
)
def test_bad_input_answers_400(api, method, path, params, body):
    response = api.request(method, api.url(path), params=params, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"]


def test_bulk_add_takes_up_to_1000_leads_and_refuses_more(app, api):
    campaign = app.workspace.campaigns[0]["id"]
    leads = [{"email": f"bulk{i}@acme.example"} for i in range(1001)]

    too_many = api.post(api.url("/leads/add"), json={"campaign_id": campaign, "leads": leads})
    exactly = api.post(api.url("/leads/add"), json={"campaign_id": campaign, "leads": leads[:1000]})

    assert too_many.status_code == 400
    assert exactly.status_code == 200
    assert exactly.json()["leads_uploaded"] == 1000


def test_bulk_add_counts_what_it_did_not_upload(app, api):
    campaign = app.workspace.campaigns[0]["id"]
    existing = app.workspace.leads(campaign)[0]["email"]
    leads = [
        {"email": "fresh@acme.example"},
        {"email": "not-an-email"},
        {"email": "someone@blocked.example"},
        {"email": existing},
        {"email": "fresh@acme.example"},
    ]
    result = api.post(api.url("/leads/add"), json={"campaign_id": campaign, "leads": leads}).json()

    assert result["leads_uploaded"] == 1
    assert result["invalid_email_count"] == 1
    assert result["in_blocklist"] == 1
    assert result["duplicated_leads"] == 2
    assert result["created_leads"] == [
        {"id": result["created_leads"][0]["id"], "email": "fresh@acme.example", "index": 0}
    ]


def test_a_created_lead_is_listed_and_can_be_deleted(app, api):
    campaign = app.workspace.campaigns[1]["id"]
    created = api.post(
        api.url("/leads"),
        json={"campaign": campaign, "email": "Ann@Acme.example", "custom_variables": {"tier": 1}},
    ).json()
    listed = walk_leads(api, campaign)
    assert created["id"] in [lead["id"] for lead in listed]
    assert len(listed) == len({lead["id"] for lead in listed}) == 21

    assert api.delete(api.url(f"/leads/{created['id']}")).status_code == 200
    assert api.delete(api.url(f"/leads/{created['id']}")).status_code == 404
    assert created["id"] not in [lead["id"] for lead in walk_leads(api, campaign)]


def walk_leads(api, campaign: str) -> list[dict]:
    items, body = [], {"campaign": campaign, "limit": 4}
    while True:
        page = api.post(api.url("/leads/list"), json=body).json()
        items.extend(page["items"])
        if not page["items"] or not page.get("next_starting_after"):
            return items
        body["starting_after"] = page["next_starting_after"]


def test_nested_custom_variables_are_refused(app, api):
    body = {
        "campaign": app.workspace.campaigns[0]["id"],
        "email": "a@acme.example",
        "custom_variables": {"nested": {"no": "objects"}},
    }
    assert api.post(api.url("/leads"), json=body).status_code == 400


# --- unibox ------------------------------------------------------------------------------------


def test_emails_filter_by_type_campaign_and_thread(app, api):
    campaign = app.workspace.campaigns[0]["id"]
    received = walk(api, "/emails", campaign_id=campaign, email_type="received", limit=50)
    assert received and all(e["ue_type"] == 2 and e["campaign_id"] == campaign for e in received)
    stamps = [e["timestamp_email"] for e in received]
    assert stamps == sorted(stamps, reverse=True)  # newest first by default

    thread = received[0]["thread_id"]
    in_thread = walk(api, "/emails", search=f"thread:{thread}", sort_order="asc", limit=50)
    assert in_thread[0]["ue_type"] == 1 and in_thread[-1]["ue_type"] == 2
    assert {e["thread_id"] for e in in_thread} == {thread}


def test_a_reply_lands_in_the_thread_as_a_manual_email(api):
    received = api.get(api.url("/emails"), params={"email_type": "received", "limit": 1}).json()
    original = received["items"][0]
    body = {
        "reply_to_uuid": original["id"],
        "eaccount": original["eaccount"],
        "subject": f"Re: {original['subject']}",
        "body": {"text": "Thursday at 10 works."},
    }
    reply = api.post(api.url("/emails/reply"), json=body)

    assert reply.status_code == 200
    assert reply.json()["ue_type"] == 3
    thread = walk(api, "/emails", search=f"thread:{original['thread_id']}", limit=50)
    assert thread[0]["id"] == reply.json()["id"]  # newest first


def test_replying_to_an_unknown_email_answers_404(api):
    body = {
        "reply_to_uuid": "01900000-0000-7000-8000-000000000000",
        "eaccount": "x@y.example",
        "subject": "Re: hi",
        "body": {"text": "hello"},
    }
    assert api.post(api.url("/emails/reply"), json=body).status_code == 404


# --- analytics over HTTP -----------------------------------------------------------------------


def test_analytics_endpoints_answer_arrays(app, api):
    ids = [c["id"] for c in app.workspace.campaigns[:3]]
    totals = api.get(api.url("/campaigns/analytics"), params={"ids": ids}).json()
    assert isinstance(totals, list) and {row["campaign_id"] for row in totals} <= set(ids)
    assert (
        api.get(api.url("/campaigns/analytics"), params={"id": ids[0]}).json()[0]["campaign_id"]
        == ids[0]
    )

    daily = api.get(api.url("/campaigns/analytics/daily"), params={"campaign_id": ids[0]}).json()
    assert daily and {"date", "sent", "opened", "replies", "clicks"} <= set(daily[0])
    steps = api.get(api.url("/campaigns/analytics/steps"), params={"campaign_id": ids[0]}).json()
    # As documented: the step number as webhooks give it ("1"), the variant from 0 (A).
    assert steps and (steps[0]["step"], steps[0]["variant"]) == ("1", "0")
    assert "opportunities" not in steps[0]  # only with include_opportunities_count=true
    with_opportunities = api.get(
        api.url("/campaigns/analytics/steps"),
        params={"campaign_id": ids[0], "include_opportunities_count": "true"},
    ).json()
    assert {"opportunities", "unique_opportunities"} <= set(with_opportunities[0])

    sender = app.workspace.campaigns[0]["email_list"][0]
    accounts = api.get(api.url("/accounts/analytics/daily"), params={"emails": [sender]}).json()
    assert accounts and {row["email_account"] for row in accounts} == {sender}


def test_analytics_date_range_narrows_the_rows(app, api):
    campaign = app.workspace.campaigns[0]["id"]
    daily = api.get(api.url("/campaigns/analytics/daily"), params={"campaign_id": campaign}).json()
    day = daily[len(daily) // 2]["date"]
    one_day = {"campaign_id": campaign, "start_date": day, "end_date": day}
    assert [
        row["date"] for row in api.get(api.url("/campaigns/analytics/daily"), params=one_day).json()
    ] == [day]


def test_analytics_without_start_date_answer_the_last_30_days_as_documented():
    """GET /accounts/analytics/daily: "Defaults to a 30-day window ending at end_date. The
    maximum range is 31 days." The campaign daily endpoint does the same here (unconfirmed)."""
    app = SandboxApp(SandboxWorkspace(seed=3, campaigns=2, history_days=90))
    with SandboxServer(app) as server, requests.Session() as api:
        api.headers["Authorization"] = f"Bearer {KEY}"
        api.url = lambda path: f"{server.base_url}/api/v2{path}"
        _check_default_windows(app, api)


def _check_default_windows(app, api):
    campaign = app.workspace.campaigns[0]
    today = app.workspace.now.date()
    daily = api.get(
        api.url("/campaigns/analytics/daily"), params={"campaign_id": campaign["id"]}
    ).json()
    assert min(row["date"] for row in daily) >= (today - timedelta(days=29)).isoformat()
    history = api.get(
        api.url("/campaigns/analytics/daily"),
        params={"campaign_id": campaign["id"], "start_date": "2020-01-01"},
    ).json()
    assert min(row["date"] for row in history) < (today - timedelta(days=29)).isoformat()

    sender = campaign["email_list"][0]
    recent = api.get(api.url("/accounts/analytics/daily"), params={"emails": [sender]}).json()
    assert min(row["date"] for row in recent) >= (today - timedelta(days=29)).isoformat()
    too_long = api.get(
        api.url("/accounts/analytics/daily"),
        params={"emails": [sender], "start_date": (today - timedelta(days=40)).isoformat()},
    )
    assert too_long.status_code == 400


def test_lead_labels_and_custom_interest_values(app, api):
    labels = walk(api, "/lead-labels")
    assert {(label["label"], label["interest_status_label"]) for label in labels} == {
        ("Hot Prospect", "positive"),
        ("follow_up", "neutral"),
    }
    values = {label["interest_status"] for label in labels}
    carried = {lead.get("lt_interest_status") for lead in app.workspace.leads()}
    assert values <= carried  # some leads carry each custom label's value


def test_campaign_overview_and_not_sending_status(app, api):
    campaign = next(
        c for c in app.workspace.campaigns if app.workspace.campaign_analytics([c["id"]])
    )
    overview = api.get(
        api.url("/campaigns/analytics/overview"), params={"id": campaign["id"]}
    ).json()
    assert {"total_interested", "total_meeting_booked", "total_closed"} <= set(overview)
    assert overview["emails_sent_count"] > 0
    statuses = {c["not_sending_status"] for c in app.workspace.campaigns}
    assert None in statuses and statuses - {None} <= {1, 2, 3, 4, 99}


# --- webhook subscriptions ---------------------------------------------------------------------


def test_webhook_subscription_lifecycle(server, api):
    created = api.post(
        api.url("/webhooks"),
        json={
            "target_hook_url": "https://salesbrain.example/hooks/instantly/",
            "event_type": "all_events",
            "headers": {WEBHOOK_AUTH_HEADER: "s3cret"},
        },
    ).json()
    assert created["status"] == 1 and created["headers"] == {WEBHOOK_AUTH_HEADER: "s3cret"}
    assert [w["id"] for w in walk(api, "/webhooks")] == [created["id"]]

    disabled = requests.post(f"{server.base_url}/__sandbox/webhooks/{created['id']}/disable")
    assert disabled.json()["status"] == -1
    assert api.post(api.url(f"/webhooks/{created['id']}/resume")).json()["status"] == 1

    assert api.delete(api.url(f"/webhooks/{created['id']}")).status_code == 200
    assert walk(api, "/webhooks") == []


# --- rate limits, faults, stats ----------------------------------------------------------------


def test_more_than_100_requests_in_one_second_answer_429_with_retry_after(api, clock):
    for _ in range(100):
        assert api.get(api.url("/workspaces/current")).status_code == 200

    refused = api.get(api.url("/workspaces/current"))
    assert refused.status_code == 429
    assert refused.json() == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Rate limit exceeded",
    }
    assert refused.headers["Retry-After"] == "1"

    clock.advance(1.0)
    assert api.get(api.url("/workspaces/current")).status_code == 200


def test_the_per_minute_limit_holds_when_each_second_stays_under_its_limit(clock):
    app = SandboxApp(SandboxWorkspace(campaigns=1), per_second=10, per_minute=25, clock=clock)
    with SandboxServer(app) as server:
        url = f"{server.base_url}/api/v2/workspaces/current"
        headers = {"Authorization": f"Bearer {KEY}"}
        answers = []
        for _ in range(3):
            answers += [requests.get(url, headers=headers).status_code for _i in range(10)]
            clock.advance(1.0)
        refused = requests.get(url, headers=headers)

    assert answers.count(200) == 25 and answers.count(429) == 5
    assert int(refused.headers["Retry-After"]) >= 57
    assert app.stats()["rate_limited"] == 6
    assert app.stats()["peak_per_minute"] == 25


def test_rate_limiter_allows_exactly_instantlys_budget():
    # Time in milliseconds keeps the window arithmetic exact.
    limiter = RateLimiter([(100, 1000), (6000, 60_000)])
    allowed = sum(limiter.acquire(now) is None for now in range(0, 61_000, 5))  # 200/s offered
    # 100 in each of the first 60 seconds, then the 61st second reopens as the first leaves.
    assert allowed == 6000 + 100
    assert limiter.peaks == [100, 6000]


def test_injected_faults_answer_the_next_requests_then_stop(app, api):
    app.inject(status=503, count=2)
    assert [api.get(api.url("/campaigns")).status_code for _ in range(3)] == [503, 503, 200]

    app.inject(status=429, count=1)
    burst = api.get(api.url("/campaigns"))
    assert burst.status_code == 429 and burst.headers["Retry-After"] == "1"
    assert api.get(api.url("/campaigns")).status_code == 200


def test_faults_can_be_injected_over_http_for_one_path(server, api):
    answer = requests.post(
        f"{server.base_url}/__sandbox/faults",
        json={"status": 502, "count": 1, "path": "/api/v2/emails"},
    )
    assert answer.status_code == 200 and answer.json()["pending"][0]["status"] == 502

    assert api.get(api.url("/campaigns")).status_code == 200
    assert api.get(api.url("/emails")).status_code == 502
    assert api.get(api.url("/emails")).status_code == 200


def test_stats_count_requests_by_route_and_status(server, api):
    campaign = api.get(api.url("/campaigns"), params={"limit": 1}).json()["items"][0]["id"]
    api.get(api.url(f"/campaigns/{campaign}"))
    api.get(api.url("/campaigns/01900000-0000-7000-8000-000000000000"))
    requests.get(api.url("/campaigns"))  # no key

    stats = requests.get(f"{server.base_url}/__sandbox/stats").json()
    assert stats["total"] == 4
    assert stats["by_path"] == {"GET /api/v2/campaigns": 2, "GET /api/v2/campaigns/{id}": 2}
    assert stats["by_status"] == {"200": 2, "401": 1, "404": 1}
    assert stats["rate_limited"] == 0 and stats["peak_per_second"] == 3

    requests.delete(f"{server.base_url}/__sandbox/stats")
    assert requests.get(f"{server.base_url}/__sandbox/stats").json()["total"] == 0


def test_concurrent_requests_are_all_answered(clock):
    app = SandboxApp(SandboxWorkspace(), per_second=10_000, per_minute=100_000, clock=clock)
    with SandboxServer(app) as server:
        url = f"{server.base_url}/api/v2/campaigns"

        def fetch(_):
            return requests.get(url, headers={"Authorization": f"Bearer {KEY}"}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(fetch, range(200)))

    assert statuses == [200] * 200
    assert app.stats()["total"] == 200


def test_the_server_shuts_down_cleanly():
    with SandboxServer(SandboxApp(SandboxWorkspace(campaigns=1))) as server:
        url = f"{server.base_url}/__sandbox/stats"
        assert requests.get(url).status_code == 200
        name = f"instantly-sandbox-{server.port}"
        assert name in [thread.name for thread in threading.enumerate()]

    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    assert name not in [thread.name for thread in threading.enumerate()]


def test_the_stricter_emails_limit_applies_to_get_emails_only(clock):
    app = SandboxApp(SandboxWorkspace(campaigns=2), emails_per_minute=2, clock=clock)
    with SandboxServer(app) as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {KEY}"
        emails = [session.get(f"{server.base_url}/api/v2/emails").status_code for _ in range(3)]
        campaigns = session.get(f"{server.base_url}/api/v2/campaigns").status_code
        clock.advance(60)
        again = session.get(f"{server.base_url}/api/v2/emails").status_code

    assert emails == [200, 200, 429]
    assert campaigns == 200 and again == 200


# --- webhook deliveries ------------------------------------------------------------------------


def test_deliveries_are_only_documented_event_types_and_custom_labels():
    """Instantly's documented list (subscription values and the delivered alternates) and the
    workspace's custom labels by name; never the seed's invented names."""
    deliveries = list(generate_deliveries(SandboxWorkspace(), 3000, seed=1))
    seen = {d["event_type"] for d in deliveries}

    assert set(SUBSCRIPTION_EVENT_TYPES) <= seen
    assert {"link_clicked", "auto_reply_received", *CUSTOM_LABEL_NAMES} <= seen
    assert seen == set(ALL_EVENT_TYPES)
    assert not seen & set(LEGACY_ALIASES)
    assert "follow_up" in seen  # a label may look like a machine name


def test_reply_deliveries_carry_both_unibox_url_forms_and_other_events_none():
    workspace = SandboxWorkspace()
    deliveries = list(generate_deliveries(workspace, 2000, seed=1))
    replies = [
        d for d in deliveries if d["event_type"] in ("reply_received", "auto_reply_received")
    ]
    forms = {d["unibox_url"].split("thread_search=")[1].startswith("thread:") for d in replies}
    assert forms == {True, False}
    for d in replies:
        search = d["unibox_url"].split("thread_search=")[1]
        assert search.startswith("thread:") or search == d["lead_email"]
    assert all("unibox_url" not in d for d in deliveries if d not in replies)


def test_deliveries_are_flat_with_the_fields_instantly_always_sends():
    workspace = SandboxWorkspace()
    campaigns = {c["id"]: c["name"] for c in workspace.campaigns}
    for delivery in generate_deliveries(workspace, 1500, seed=2):
        assert all(isinstance(v, str | int | float | bool) for v in delivery.values()), delivery
        assert datetime.fromisoformat(delivery["timestamp"].replace("Z", "+00:00"))
        assert delivery["workspace"] == workspace.workspace["id"]
        assert campaigns[delivery["campaign_id"]] == delivery["campaign_name"]
        if "lead_email" in delivery:
            assert delivery["email"] == delivery["lead_email"]
            assert isinstance(delivery["firstName"], str) and delivery["companyName"]
        if "step" in delivery:
            assert int(delivery["step"]) >= 1 and int(delivery["variant"]) >= 1


def test_sent_and_reply_deliveries_carry_their_content_and_a_replyable_email_id():
    workspace = SandboxWorkspace()
    deliveries = list(generate_deliveries(workspace, 1500, seed=1))
    sent = [d for d in deliveries if d["event_type"] == "email_sent"]
    replies = [d for d in deliveries if d["event_type"] == "reply_received"]

    assert sent and replies
    for delivery in sent:
        assert {"email_subject", "email_text", "email_html", "email_id", "email_account"} <= set(
            delivery
        )
        assert workspace.email(delivery["email_id"])["ue_type"] == 1
    for delivery in replies:
        assert {"reply_subject", "reply_text", "reply_html", "reply_text_snippet"} <= set(delivery)
        assert workspace.email(delivery["email_id"])["ue_type"] == 2
    assert any("is_first" not in d for d in sent) and any("is_first" in d for d in sent)
    assert any(isinstance(d["step"], str) for d in sent)
    assert any(isinstance(d["step"], int) for d in sent)


def test_each_lead_story_arrives_in_order_without_shuffling():
    by_lead = defaultdict(list)
    for delivery in generate_deliveries(SandboxWorkspace(), 2000, seed=1):
        if "lead_email" in delivery:  # one person can be a lead of several campaigns
            by_lead[delivery["campaign_id"], delivery["lead_email"]].append(delivery)

    replied = 0
    for story in by_lead.values():
        stamps = [d["timestamp"] for d in story]
        assert stamps == sorted(stamps)
        types = [d["event_type"] for d in story]
        if "email_opened" in types:
            assert types.index("email_sent") < types.index("email_opened")
        if "reply_received" in types:
            replied += 1
            assert types.index("email_sent") < types.index("reply_received")
            for label in ("lead_interested", "lead_meeting_booked", "lead_neutral"):
                if label in types:
                    assert types.index("reply_received") < types.index(label)
    assert replied > 10


def test_same_seed_same_deliveries_and_another_seed_differs():
    workspace = SandboxWorkspace()
    first = list(generate_deliveries(workspace, 300, seed=4, duplicate_ratio=0.1))
    again = list(generate_deliveries(SandboxWorkspace(), 300, seed=4, duplicate_ratio=0.1))
    other = list(generate_deliveries(workspace, 300, seed=5, duplicate_ratio=0.1))
    assert first == again
    assert first != other


def test_duplicates_and_late_deliveries_appear_only_when_asked():
    def measure(**ratios):
        deliveries = list(generate_deliveries(SandboxWorkspace(), 1000, seed=1, **ratios))
        texts = [json.dumps(d, sort_keys=True) for d in deliveries]
        duplicates = len(texts) - len(set(texts))
        pairs = zip(deliveries, deliveries[1:], strict=False)
        late = sum(a["timestamp"] > b["timestamp"] for a, b in pairs)
        return len(deliveries), duplicates, late

    plain_count, plain_duplicates, plain_late = measure()
    count, duplicates, late = measure(duplicate_ratio=0.2, out_of_order_ratio=0.2)

    assert plain_count == count == 1000
    assert plain_duplicates == 0
    assert 120 <= duplicates <= 280
    assert late > plain_late + 50


def test_more_deliveries_than_stories_replay_with_fresh_leads_and_ids():
    workspace = SandboxWorkspace(campaigns=2, leads_per_campaign=5)
    deliveries = list(generate_deliveries(workspace, 400, seed=1))
    sent_ids = [d["email_id"] for d in deliveries if d["event_type"] == "email_sent"]

    assert len(deliveries) == 400
    assert len(sent_ids) == len(set(sent_ids))
    assert any("+r1@" in d.get("lead_email", "") for d in deliveries)


def test_event_types_filter_the_stream_and_unknown_types_are_refused():
    wanted = {"reply_received", CUSTOM_LABEL}
    deliveries = list(generate_deliveries(SandboxWorkspace(), 50, seed=1, event_types=wanted))
    assert len(deliveries) == 50 and {d["event_type"] for d in deliveries} == wanted

    with pytest.raises(ValueError, match="unknown event types"):
        generate_deliveries(SandboxWorkspace(), 5, seed=1, event_types=["email_sent", "bogus"])


class Receiver:
    """A WSGI webhook receiver that accepts only the right secret and remembers what came."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.received: list[tuple[str | None, str, dict]] = []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        header = environ.get("HTTP_X_SALESBRAIN_WEBHOOK_SECRET")
        self.received.append((header, environ.get("CONTENT_TYPE", ""), json.loads(body)))
        status = "200 OK" if header == self.secret else "401 Unauthorized"
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]


def test_post_deliveries_sends_json_with_the_secret_header_and_counts_answers():
    receiver = Receiver()
    deliveries = list(generate_deliveries(SandboxWorkspace(), 12, seed=1))
    with SandboxServer(receiver) as server:
        good = post_deliveries(server.base_url + "/hooks", deliveries[:10], "s3cret")
        bad = post_deliveries(server.base_url + "/hooks", deliveries[10:], "wrong")

    assert good == {200: 10}
    assert bad == {401: 2}
    assert [payload for _, _, payload in receiver.received] == deliveries
    assert receiver.received[0][1].startswith("application/json")


def test_post_deliveries_paces_to_the_requested_rate():
    clock, sleeps = FakeClock(), []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    with SandboxServer(Receiver()) as server:
        deliveries = generate_deliveries(SandboxWorkspace(), 5, seed=1)
        counts = post_deliveries(
            server.base_url, deliveries, "s3cret", rate=10, clock=clock, sleep=sleep
        )

    assert counts == {200: 5}
    assert sum(sleeps) == pytest.approx(0.4)


def test_post_deliveries_counts_connection_failures():
    with SandboxServer(Receiver()) as server:
        url = server.base_url
    deliveries = generate_deliveries(SandboxWorkspace(), 2, seed=1)
    assert post_deliveries(url, deliveries, "s3cret", timeout=2) == {"error": 2}


# --- the management command --------------------------------------------------------------------


def run_command(*argv: str, wait=None) -> str:
    out = io.StringIO()
    command = Command(stdout=out, stderr=io.StringIO())
    if wait is not None:
        command._wait = wait
    options = command.create_parser("manage.py", "instantly_sandbox").parse_args(list(argv))
    command.execute(**vars(options))
    return out.getvalue()


def test_serve_prints_the_settings_that_point_salesbrain_at_it():
    answers = []

    def wait() -> None:
        base = output_so_far.getvalue().split("INSTANTLY_API_BASE_URL=")[1].split()[0]
        answers.append(
            requests.get(f"{base}/api/v2/campaigns", headers={"Authorization": "Bearer k"})
        )
        raise KeyboardInterrupt

    output_so_far = io.StringIO()
    command = Command(stdout=output_so_far, stderr=io.StringIO())
    command._wait = wait
    argv = ["serve", "--port", "0", "--campaigns", "3", "--api-key", "k", "--now", "2025-01-31"]
    options = command.create_parser("manage.py", "instantly_sandbox").parse_args(argv)
    command.execute(**vars(options))

    output = output_so_far.getvalue()
    assert "INSTANTLY_API_BASE_URL=http://127.0.0.1:" in output and "INSTANTLY_API_KEY=k" in output
    assert answers[0].status_code == 200 and len(answers[0].json()["items"]) == 3
    assert "Stopping" in output


def test_webhooks_command_posts_and_summarises_status_codes():
    receiver = Receiver()
    with SandboxServer(receiver) as server:
        output = run_command(
            "webhooks", "--url", server.base_url + "/hooks?token=hidden", "--secret", "s3cret",
            "--count", "15", "--rate", "0", "--campaigns", "4",
        )  # fmt: skip

    assert "Posted 15 deliveries" in output and "200: 15" in output
    assert "hidden" not in output
    assert len(receiver.received) == 15


def test_webhooks_command_fails_when_deliveries_are_refused():
    with SandboxServer(Receiver(secret="other")) as server:
        with pytest.raises(CommandError, match="3 of 3"):
            run_command(
                "webhooks", "--url", server.base_url, "--secret", "s3cret", "--count", "3",
                "--rate", "0", "--types", "email_sent,reply_received",
            )  # fmt: skip


def test_the_sandbox_keeps_a_block_list_through_the_client():
    """The demo's do-not-contact action blocks addresses in the sandbox, never at Instantly."""
    workspace = SandboxWorkspace(seed=3)
    with SandboxServer(SandboxApp(workspace, api_key="sandbox-key")) as server:
        client = InstantlyClient("sandbox-key", base_url=server.base_url)
        entry = client.create_block_list_entry("Stop@Example.com")
        again = client.create_block_list_entry("stop@example.com")
        assert entry.id == again.id and entry.bl_value == "stop@example.com"
        assert list(workspace.block_list) == [entry.id]
        client.delete_block_list_entry(entry.id)
        assert workspace.block_list == {}
