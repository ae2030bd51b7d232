"""End to end: `sync_workspace` against the local Instantly sandbox served over real HTTP.

A workspace of 200 campaigns and 1,000 mailboxes syncs fully and within Instantly's rate limits;
a second sync finds nothing changed; injected 429s and 5xx are retried through; staff
assignments survive a re-sync; campaigns that disappear upstream are marked, not deleted.
Retry waits use a no-op sleeper; only the rate limiter waits in real time, as it must to keep the
sandbox (which counts real seconds) from answering 429.
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.tenancy import staff_scope
from campaigns.assignment import assign_campaign
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    CampaignStepStat,
    EmailAccount,
    EmailAccountDailyStat,
)
from instantly import codes
from instantly.connections import client_for
from instantly.models import ProviderConnection
from instantly.sandbox import DEFAULT_API_KEY, SandboxApp, SandboxServer, SandboxWorkspace
from instantly.sync.run import sync_workspace
from testkit import make_connection

CAMPAIGNS = 200
ACCOUNTS = 1000
SMALL_CAMPAIGNS, SMALL_ACCOUNTS = 20, 60
SEED = 7
NOW = dt.datetime.now(dt.UTC)


def _workspace(campaigns: int, accounts: int) -> SandboxWorkspace:
    # Activity up to now, so the last days' figures (re-read by every sync) exist.
    return SandboxWorkspace(
        seed=SEED, campaigns=campaigns, accounts=accounts, leads_per_campaign=8, now=NOW
    ).materialize()


@pytest.fixture(scope="module")
def big_workspace():
    return _workspace(CAMPAIGNS, ACCOUNTS)


@pytest.fixture
def sandbox(big_workspace):
    """The full-size workspace (200 campaigns, 1,000 mailboxes)."""
    app = SandboxApp(big_workspace)
    with SandboxServer(app) as server:
        yield app, server


@pytest.fixture
def small_sandbox():
    """A small workspace, for behaviour that does not depend on size."""
    app = SandboxApp(_workspace(SMALL_CAMPAIGNS, SMALL_ACCOUNTS))
    with SandboxServer(app) as server:
        yield app, server


@pytest.fixture
def connection(db):
    return make_connection("Sandbox agency workspace", is_shared=True, api_key=DEFAULT_API_KEY)


def _sync(connection, server, **kwargs):
    # The mirror only: the history backfill that follows it has its own tests (test_backfill).
    kwargs.setdefault("history", False)
    client = client_for(connection, base_url=server.base_url, sleeper=lambda seconds: None)
    with client:
        return sync_workspace(connection, client=client, **kwargs)


def _count(model, connection):
    with staff_scope():
        return model.objects.unscoped().filter(connection_id=connection.pk).count()


@pytest.mark.django_db
def test_full_sync_mirrors_the_whole_workspace_within_rate_limits(sandbox, connection):
    app, server = sandbox
    workspace = app.workspace

    result = _sync(connection, server)

    assert result.campaigns.created == CAMPAIGNS
    assert result.accounts.created == ACCOUNTS
    assert _count(Campaign, connection) == CAMPAIGNS
    assert _count(EmailAccount, connection) == ACCOUNTS
    stats = app.stats()
    assert stats["rate_limited"] == 0
    assert stats["by_status"].keys() == {"200"}
    assert result.requests == stats["total"]

    with staff_scope():
        connection.refresh_from_db()
    assert connection.workspace_id == workspace.workspace["id"]
    assert connection.workspace_name == workspace.workspace["name"]
    assert connection.last_synced_at is not None
    assert connection.status == ProviderConnection.Status.ACTIVE

    upstream = workspace.campaigns[3]
    with staff_scope():
        campaign = Campaign.objects.unscoped().get(instantly_id=upstream["id"])
        assert campaign.organization_id is None  # shared workspace: unassigned
        assert campaign.name == upstream["name"]
        assert campaign.status == codes.campaign_status(upstream["status"])
        assert campaign.sequences == upstream["sequences"]
        assert campaign.raw == upstream
        senders = set(
            CampaignSender.objects.unscoped()
            .filter(campaign=campaign)
            .values_list("email_account__email", flat=True)
        )
        assert senders == set(upstream["email_list"])
        # Every campaign status code of the sandbox arrived as a known domain status.
        statuses = set(Campaign.objects.unscoped().values_list("status", flat=True))
        assert CampaignStatus.UNKNOWN not in statuses
        assert len(statuses) == len(codes.CAMPAIGN_STATUS)

        totals = {row["campaign_id"]: row for row in workspace.campaign_analytics()}
        sent = Campaign.objects.unscoped().get(instantly_id=next(iter(totals)))
        assert sent.analytics == totals[sent.instantly_id]
        daily = workspace.campaign_daily_analytics(sent.instantly_id)
        rows = CampaignDailyStat.objects.unscoped().filter(campaign=sent)
        assert rows.count() == len(daily)
        assert sum(r.sent for r in rows) == sum(d["sent"] for d in daily)
        assert CampaignStepStat.objects.unscoped().filter(campaign=sent).exists()
        assert CampaignDailyStat.objects.unscoped().count() == sum(
            len(workspace.campaign_daily_analytics(cid)) for cid in totals
        )
        assert EmailAccountDailyStat.objects.unscoped().count() == len(
            workspace.account_daily_analytics()
        )


@pytest.mark.django_db
def test_sync_completes_through_429s_and_server_errors_and_a_resync_changes_nothing(
    sandbox, connection
):
    app, server = sandbox
    app.inject(429, count=3, retry_after=1)
    app.inject(503, count=2, path="/api/v2/accounts")
    app.inject(502, count=2, path="/api/v2/campaigns/analytics/daily")
    app.inject(504, count=1, path="/api/v2/campaigns/analytics/steps")

    first = _sync(connection, server)

    stats = app.stats()
    assert stats["injected"] == 8
    assert stats["rate_limited"] == 0  # the only 429s were the injected ones
    assert (first.campaigns.created, first.accounts.created) == (CAMPAIGNS, ACCOUNTS)
    assert first.figures_fetched == len(app.workspace.campaign_analytics())
    assert _count(Campaign, connection) == CAMPAIGNS

    second = _sync(connection, server)

    assert not second.changed
    assert second.campaigns.unchanged == CAMPAIGNS
    assert second.accounts.unchanged == ACCOUNTS
    assert second.analytics.unchanged == CAMPAIGNS
    # Only the last days are re-read, and found unchanged.
    assert 0 < second.account_daily.unchanged < first.account_daily.created
    assert second.figures_fetched == 0  # no totals moved: no per-campaign requests
    assert second.requests < first.requests / 5
    assert app.stats()["rate_limited"] == 0


@pytest.mark.django_db
def test_full_resync_rereads_every_figure_and_still_changes_nothing(small_sandbox, connection):
    app, server = small_sandbox
    first = _sync(connection, server)

    full = _sync(connection, server, full=True)

    assert not full.changed
    assert full.figures_fetched == first.figures_fetched > 0
    assert full.campaign_daily.unchanged == first.campaign_daily.created
    assert full.campaign_steps.unchanged == first.campaign_steps.created


@pytest.mark.django_db
def test_assignment_survives_resync_and_updates_still_arrive(small_sandbox, connection, org_a):
    app, server = small_sandbox
    _sync(connection, server)
    upstream = next(c for c in app.workspace.campaigns if c["status"] == 1)
    with staff_scope():
        campaign = Campaign.objects.unscoped().get(instantly_id=upstream["id"])
    assign_campaign(campaign, org_a)
    original_name = upstream["name"]
    upstream["name"] = "Renamed upstream"
    try:
        result = _sync(connection, server)
    finally:
        upstream["name"] = original_name

    assert result.campaigns.updated == 1
    with staff_scope():
        campaign.refresh_from_db()
        assert campaign.organization_id == org_a.pk
        assert campaign.name == "Renamed upstream"
        for model in (CampaignSender, CampaignDailyStat, CampaignStepStat):
            orgs = set(
                model.objects.unscoped()
                .filter(campaign=campaign)
                .values_list("organization_id", flat=True)
            )
            assert orgs == {org_a.pk}, model.__name__


@pytest.mark.django_db
def test_campaigns_gone_upstream_are_marked_vanished_and_come_back(small_sandbox, connection):
    app, server = small_sandbox
    full_workspace = app.workspace
    _sync(connection, server)
    # Same seed: the first 19 campaigns generated are identical, the 20th is gone.
    smaller = _workspace(SMALL_CAMPAIGNS - 1, SMALL_ACCOUNTS)
    kept = {c["id"] for c in smaller.campaigns}
    (gone_id,) = [c["id"] for c in full_workspace.campaigns if c["id"] not in kept]

    app.workspace = smaller
    try:
        result = _sync(connection, server)
    finally:
        app.workspace = full_workspace

    assert result.campaigns.vanished == 1
    assert result.campaigns.unchanged == SMALL_CAMPAIGNS - 1
    with staff_scope():
        gone = Campaign.objects.unscoped().get(instantly_id=gone_id)
        assert gone.vanished_at is not None  # kept, never deleted

    back = _sync(connection, server)
    assert back.campaigns.updated == 1
    with staff_scope():
        gone.refresh_from_db()
        assert gone.vanished_at is None


@pytest.mark.django_db
def test_dedicated_workspace_rows_belong_to_the_connections_organization(small_sandbox, org_b):
    app, server = small_sandbox
    dedicated = make_connection(
        "Bluebird's own workspace", organization=org_b, api_key=DEFAULT_API_KEY
    )

    _sync(dedicated, server)

    with staff_scope():
        assert set(
            Campaign.objects.unscoped()
            .filter(connection_id=dedicated.pk)
            .values_list("organization_id", flat=True)
        ) == {org_b.pk}
        assert set(
            EmailAccount.objects.unscoped()
            .filter(connection_id=dedicated.pk)
            .values_list("organization_id", flat=True)
        ) == {org_b.pk}
        assert set(
            CampaignDailyStat.objects.unscoped()
            .filter(campaign__connection_id=dedicated.pk)
            .values_list("organization_id", flat=True)
        ) == {org_b.pk}


@pytest.mark.django_db
def test_a_first_sync_gets_all_history_not_instantlys_30_day_default(connection):
    """The sandbox answers, like Instantly, only the last 30 days when no start_date is sent
    (and at most 31 days of mailbox figures a call): a first sync must still land 90 days."""
    workspace = SandboxWorkspace(
        seed=SEED, campaigns=3, accounts=5, leads_per_campaign=8, now=NOW, history_days=90
    )
    with SandboxServer(SandboxApp(workspace)) as server:
        _sync(connection, server)
    oldest_allowed_by_default = (NOW - dt.timedelta(days=29)).date()
    with staff_scope():
        mailbox_days = EmailAccountDailyStat.objects.unscoped().values_list("date", flat=True)
        campaign_days = CampaignDailyStat.objects.unscoped().values_list("date", flat=True)
        steps = CampaignStepStat.objects.unscoped()
        assert min(mailbox_days) < oldest_allowed_by_default - dt.timedelta(days=30)
        assert min(campaign_days) < oldest_allowed_by_default
        assert sum(s.opportunities for s in steps) > 0  # include_opportunities_count=true
        assert {(s.step, s.variant) for s in steps} >= {(1, 1)}
        synced = Campaign.objects.unscoped().exclude(analytics_overview={})
        assert synced.exists()
