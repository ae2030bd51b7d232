"""sync_workspace with Instantly faked at the HTTP boundary (`responses`): what lands where.

`FakeInstantly` answers the few endpoints a sync calls from plain dicts the tests edit between
runs, and counts the requests, so each test states an upstream situation and checks the rows.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.db import connections
from prometheus_client import REGISTRY

from accounts.tenancy import staff_scope
from campaigns.assignment import assign_campaign
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    CampaignStepStat,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    LabelMeaning,
    Lead,
    LeadLabel,
    MailboxStatus,
    MailProvider,
    NotSendingStatus,
    WarmupStatus,
)
from instantly import monitoring
from instantly.connections import client_for
from instantly.errors import InstantlyAuthenticationError, InstantlyConnectionError
from instantly.models import Alert, ProviderConnection, SubscriptionState, SyncRun
from instantly.sync.fetch import account_windows
from instantly.sync.run import SyncAlreadyRunning, lock_key, sync_workspace
from instantly.sync.transfer import export_workspace, import_workspace
from instantly.sync.values import mailbox_error_text
from instantly.sync.write import WorkspaceMismatchError
from instantly.tasks import sync_all_workspaces, sync_workspace_task
from testkit import make_connection
from testkit.logcapture import json_lines

BASE = "https://api.instantly.test"
API_KEY = "sk-live-sync-test-SECRET-9f8e7d"
WORKSPACE_ID = "0190a0a0-0000-7000-8000-000000000001"
CAMPAIGN_1 = "0190a0a0-0000-7000-8000-0000000000c1"
CAMPAIGN_2 = "0190a0a0-0000-7000-8000-0000000000c2"
DRAFT = "0190a0a0-0000-7000-8000-0000000000c3"


def _campaign(cid, name, status, senders):
    return {
        "id": cid,
        "name": name,
        "status": status,
        "timestamp_created": "2026-10-01T09:00:00.000Z",
        "timestamp_updated": "2026-11-20T09:00:00.000Z",
        "daily_limit": 100,
        "stop_on_reply": True,
        "open_tracking": True,
        "link_tracking": False,
        "text_only": False,
        "email_list": senders,
        "campaign_schedule": {
            "start_date": "2026-10-01",
            "end_date": None,
            "schedules": [{"name": "Weekdays", "timing": {"from": "09:00", "to": "17:00"}}],
        },
        "sequences": [
            {
                "steps": [
                    {
                        "type": "email",
                        "delay": 2,
                        "variants": [{"subject": "Hi", "body": "<p>x</p>"}],
                    }
                ]
            }
        ],
        "some_future_field": {"kept": True},
    }


def _account(email, status=1, **extra):
    return {
        "email": email,
        "first_name": "Ada",
        "last_name": "Sender",
        "status": status,
        "provider_code": "2",
        "warmup_status": 1,
        "stat_warmup_score": 97.6,
        "daily_limit": 40,
        "sending_gap": 10,
        "warmup": {"limit": 20},
        "tracking_domain_name": "track.example.com",
        "timestamp_created": "2026-01-01T00:00:00Z",
        "timestamp_updated": "2026-11-24T00:00:00Z",
        "timestamp_last_used": "2026-11-24T10:00:00Z",
        **extra,
    }


class FakeInstantly:
    """Instantly's read endpoints over editable data; `calls` counts requests per path."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.workspace = {"id": WORKSPACE_ID, "name": "Agency HQ", "plan_id": "pid_hg"}
        self.campaigns = [
            _campaign(CAMPAIGN_1, "Dentists UK", "1", ["a@send.example", "b@send.example"]),
            _campaign(CAMPAIGN_2, "Lawyers US", 3, ["b@send.example", "ghost@elsewhere.example"]),
            _campaign(DRAFT, "Draft idea", 0, []),
        ]
        self.accounts = [
            _account("a@send.example"),
            _account(
                "b@send.example",
                status=-1,
                status_message={"code": "EAUTH", "e_message": "Invalid login: 535"},
            ),
            _account("c@send.example", status=2, provider_code=3, warmup_status=-1),
        ]
        self.totals = {
            CAMPAIGN_1: {"campaign_id": CAMPAIGN_1, "emails_sent_count": 30, "reply_count": 2},
            CAMPAIGN_2: {"campaign_id": CAMPAIGN_2, "emails_sent_count": 12, "reply_count": 0},
        }
        self.daily = {
            CAMPAIGN_1: [
                {"date": "2026-11-20", "sent": 10, "opened": 4, "replies": 1, "clicks": 0},
                {"date": "2026-11-21", "sent": 20, "opened": 5, "replies": 1, "unique_replies": 1},
            ],
            CAMPAIGN_2: [{"date": "2026-11-21", "sent": 12, "contacted": 12}],
        }
        # As documented: `step` the step number ("1" first, like webhooks), `variant` from 0.
        self.steps = {
            CAMPAIGN_1: [
                {"step": "1", "variant": "0", "sent": 20, "replies": 2, "opportunities": 2},
                {"step": "2", "variant": "1", "sent": 10, "opened": 3},
                {"step": None, "variant": None, "sent": 1},
            ],
            CAMPAIGN_2: [{"step": 1, "variant": None, "sent": 12}],
        }
        self.overviews = {
            CAMPAIGN_1: {
                "emails_sent_count": 30,
                "total_opportunities": 3,
                "total_interested": 3,
                "total_meeting_booked": 2,
                "total_meeting_completed": 1,
                "total_closed": 1,
            },
        }
        self.labels = [
            {
                "id": "019d9c5f-9689-7a80-835a-ba07d3878ce7",
                "label": "Hot Lead",
                "interest_status_label": "positive",
                "interest_status": 17,
                "description": "Used for marking high-priority leads",
            },
            {"id": "019d9c5f-9689-7a80-835a-ba07d3878ce8", "label": "follow_up",
             "interest_status_label": "neutral", "interest_status": 18},
        ]  # fmt: skip
        self.account_daily = [
            {"date": "2026-11-21", "email_account": "a@send.example", "sent": 25, "bounced": 1},
            {"date": "2026-11-21", "email_account": "b@send.example", "sent": 17, "replies": 2},
            {"date": "2026-11-21", "email_account": "unknown@x.example", "sent": 3},
        ]
        self.webhooks: list[dict] = []
        self.calls: Counter[str] = Counter()
        self.broken: set[str] = set()  # paths answering with a network error
        self.throttled: Counter[str] = Counter()  # path -> how many 429s it answers first
        self.queries: list[tuple[str, dict]] = []
        self.seen_keys: set[str] = set()
        routes = {
            "/api/v2/workspaces/current": lambda q: self.workspace,
            "/api/v2/campaigns": lambda q: {"items": self.campaigns},
            "/api/v2/campaigns/analytics": self._totals,
            "/api/v2/campaigns/analytics/daily": lambda q: self.daily.get(q["campaign_id"][0], []),
            "/api/v2/campaigns/analytics/steps": lambda q: self.steps.get(q["campaign_id"][0], []),
            "/api/v2/accounts": lambda q: {"items": self.accounts},
            "/api/v2/accounts/analytics/daily": self._account_daily,
            "/api/v2/webhooks": lambda q: {"items": self.webhooks},
            "/api/v2/campaigns/analytics/overview": lambda q: self.overviews.get(q["id"][0], {}),
            "/api/v2/lead-labels": lambda q: {"items": self.labels},
        }
        for path, answer in routes.items():
            rsps.add_callback(responses.GET, BASE + path, callback=self._serve(path, answer))

    def _serve(self, path, answer):
        def callback(request):
            self.calls[path] += 1
            self.queries.append((path, parse_qs(urlsplit(request.url).query)))
            if path in self.broken:
                raise requests.ConnectionError("connection refused")
            if self.throttled[path] > 0:
                self.throttled[path] -= 1
                return 429, {"Retry-After": "0"}, json.dumps({"error": "rate limited"})
            self.seen_keys.add(request.headers.get("Authorization", ""))
            query = parse_qs(urlsplit(request.url).query)
            return 200, {}, json.dumps(answer(query))

        return callback

    def _totals(self, query):
        return [self.totals[i] for i in query.get("ids", []) if i in self.totals]

    def _account_daily(self, query):
        """As documented: the last 30 days without start_date, at most 31 days a call."""
        wanted = set(query.get("emails", []))
        end = dt.date.fromisoformat(query.get("end_date", [dt.date.today().isoformat()])[0])
        start = query.get("start_date", [None])[0]
        start = dt.date.fromisoformat(start) if start else end - dt.timedelta(days=29)
        assert (end - start).days < 31, "more than 31 days asked for"
        return [
            row
            for row in self.account_daily
            if (row["email_account"] in wanted or not wanted)
            and start <= dt.date.fromisoformat(row["date"]) <= end
        ]


@pytest.fixture
def fake(settings):
    settings.INSTANTLY_API_BASE_URL = BASE
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeInstantly(rsps)


@pytest.fixture
def connection(db):
    return make_connection("Agency workspace", is_shared=True, api_key=API_KEY)


def sync(connection, **kwargs):
    # The mirror only: the history backfill that follows it has its own tests (test_backfill).
    kwargs.setdefault("history", False)
    client = client_for(connection, sleeper=lambda seconds: None)
    return sync_workspace(connection, client=client, **kwargs)


def rows(model, **filters):
    with staff_scope():
        return list(model.objects.unscoped().filter(**filters))


def one(model, **filters):
    with staff_scope():
        return model.objects.unscoped().get(**filters)


# --- what lands where ------------------------------------------------------------------------


@pytest.mark.django_db
def test_campaigns_are_mirrored_with_domain_statuses_and_raw_json(fake, connection):
    result = sync(connection)

    assert result.campaigns.created == 3
    first = one(Campaign, instantly_id=CAMPAIGN_1)
    assert first.organization_id is None  # shared workspace: unassigned
    assert first.status == CampaignStatus.ACTIVE  # "1" arrived as a string
    assert first.name == "Dentists UK"
    assert first.daily_limit == 100
    assert (first.stop_on_reply, first.open_tracking, first.link_tracking) == (True, True, False)
    assert first.schedule["schedules"][0]["timing"] == {"from": "09:00", "to": "17:00"}
    assert first.sequences[0]["steps"][0]["variants"][0]["subject"] == "Hi"
    assert first.sender_emails == ["a@send.example", "b@send.example"]
    assert first.raw["some_future_field"] == {"kept": True}
    assert first.upstream_updated_at == dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    completed = one(Campaign, instantly_id=CAMPAIGN_2)
    assert completed.status == CampaignStatus.COMPLETED
    assert completed.completed_at is not None
    assert one(Campaign, instantly_id=DRAFT).status == CampaignStatus.DRAFT


@pytest.mark.django_db
def test_mailboxes_are_mirrored_with_health_warmup_and_last_error(fake, connection):
    result = sync(connection)

    assert result.accounts.created == 3
    healthy = one(EmailAccount, email="a@send.example")
    assert healthy.status == MailboxStatus.ACTIVE
    assert healthy.provider == MailProvider.GOOGLE  # "2" as a string
    assert healthy.warmup_status == WarmupStatus.ACTIVE
    assert healthy.warmup_score == 98
    assert (healthy.daily_limit, healthy.sending_gap) == (40, 10)
    assert healthy.tracking_domain == "track.example.com"
    assert healthy.last_error == ""
    broken = one(EmailAccount, email="b@send.example")
    assert broken.status == MailboxStatus.CONNECTION_ERROR
    assert broken.last_error == "Invalid login: 535"
    assert broken.last_error_at is not None
    assert broken.status_message["code"] == "EAUTH"
    paused = one(EmailAccount, email="c@send.example")
    assert (paused.status, paused.provider) == (MailboxStatus.PAUSED, MailProvider.MICROSOFT)
    assert paused.warmup_status == WarmupStatus.BANNED


@pytest.mark.django_db
def test_senders_link_campaigns_to_known_mailboxes_only(fake, connection):
    sync(connection)

    with staff_scope():
        links = set(
            CampaignSender.objects.unscoped().values_list(
                "campaign__instantly_id", "email_account__email"
            )
        )
    assert links == {
        (CAMPAIGN_1, "a@send.example"),
        (CAMPAIGN_1, "b@send.example"),
        (CAMPAIGN_2, "b@send.example"),  # ghost@elsewhere has no mailbox here: skipped
    }

    fake.campaigns[0]["email_list"] = ["b@send.example"]
    result = sync(connection)

    assert (result.senders.created, result.senders.vanished) == (0, 1)
    with staff_scope():
        assert (
            not CampaignSender.objects.unscoped()
            .filter(campaign__instantly_id=CAMPAIGN_1, email_account__email="a@send.example")
            .exists()
        )


@pytest.mark.django_db
def test_analytics_totals_daily_and_step_rows_are_stored(fake, connection):
    result = sync(connection)

    first = one(Campaign, instantly_id=CAMPAIGN_1)
    assert first.analytics == fake.totals[CAMPAIGN_1]
    assert one(Campaign, instantly_id=DRAFT).analytics == {}
    days = {d.date.isoformat(): d for d in rows(CampaignDailyStat, campaign=first)}
    assert set(days) == {"2026-11-20", "2026-11-21"}
    assert (days["2026-11-20"].sent, days["2026-11-20"].opened) == (10, 4)
    assert (days["2026-11-21"].replied, days["2026-11-21"].unique_replied) == (1, 1)
    assert all(d.organization_id is None for d in days.values())
    # Steps arrive numbered like webhooks, variants from 0; stored both 1-based (variant A is
    # 1, as webhooks say); a row without a step is skipped. Opportunities per step are kept.
    steps = {(s.step, s.variant): s for s in rows(CampaignStepStat, campaign=first)}
    assert set(steps) == {(1, 1), (2, 2)}
    assert (steps[(1, 1)].sent, steps[(1, 1)].replied) == (20, 2)
    assert steps[(1, 1)].opportunities == 2
    assert steps[(2, 2)].raw == {"step": "2", "variant": "1", "sent": 10, "opened": 3}
    (only_step,) = rows(CampaignStepStat, campaign__instantly_id=CAMPAIGN_2)
    assert (only_step.step, only_step.variant) == (1, 1)
    mailbox_days = {r.email_account.email: r for r in _with_mailbox(EmailAccountDailyStat)}
    assert set(mailbox_days) == {"a@send.example", "b@send.example"}
    assert (mailbox_days["a@send.example"].sent, mailbox_days["a@send.example"].bounced) == (25, 1)
    assert mailbox_days["b@send.example"].replied == 2
    assert result.campaign_daily.created == 3
    assert result.campaign_steps.created == 3
    assert result.account_daily.created == 2
    assert fake.calls["/api/v2/campaigns/analytics/daily"] == 2  # the draft never sent


def _with_mailbox(model):
    with staff_scope():
        return list(model.objects.unscoped().select_related("email_account"))


@pytest.mark.django_db
def test_webhook_kept_counters_are_not_overwritten_by_a_sync(fake, connection):
    sync(connection)
    with staff_scope():
        day = CampaignDailyStat.objects.unscoped().get(
            campaign__instantly_id=CAMPAIGN_1, date="2026-11-21"
        )
        day.bounced, day.interested = 3, 2
        day.save()
    fake.daily[CAMPAIGN_1][1]["sent"] = 21
    fake.totals[CAMPAIGN_1]["emails_sent_count"] = 31

    sync(connection)

    day = one(CampaignDailyStat, pk=day.pk)
    assert (day.sent, day.bounced, day.interested) == (21, 3, 2)


# --- idempotency and change detection ---------------------------------------------------------


@pytest.mark.django_db
def test_second_sync_changes_nothing_and_skips_unchanged_figures(fake, connection):
    first = sync(connection)
    assert first.changed
    figure_calls = fake.calls["/api/v2/campaigns/analytics/daily"]

    second = sync(connection)

    assert not second.changed
    assert second.campaigns.unchanged == 3
    assert second.accounts.unchanged == 3
    assert second.senders.unchanged == 3
    # The re-read days (from two days before the first sync) hold nothing new.
    assert not second.account_daily.changed
    assert second.figures_fetched == 0
    assert fake.calls["/api/v2/campaigns/analytics/daily"] == figure_calls


@pytest.mark.django_db
def test_only_what_changed_upstream_is_written(fake, connection):
    sync(connection)
    fake.campaigns[1]["name"] = "Lawyers US (v2)"
    fake.accounts[0]["status"] = -3
    fake.totals[CAMPAIGN_1]["emails_sent_count"] = 40
    fake.daily[CAMPAIGN_1].append({"date": "2026-11-22", "sent": 10})

    result = sync(connection)

    assert (result.campaigns.updated, result.campaigns.unchanged) == (1, 2)
    assert (result.accounts.updated, result.accounts.unchanged) == (1, 2)
    assert (result.analytics.updated, result.figures_fetched) == (1, 1)
    assert (result.campaign_daily.created, result.campaign_daily.unchanged) == (1, 2)
    assert one(Campaign, instantly_id=CAMPAIGN_2).name == "Lawyers US (v2)"
    assert one(EmailAccount, email="a@send.example").status == MailboxStatus.SENDING_ERROR
    assert one(Campaign, instantly_id=CAMPAIGN_1).analytics["emails_sent_count"] == 40


@pytest.mark.django_db
def test_full_sync_refetches_every_campaigns_figures(fake, connection):
    sync(connection)

    result = sync(connection, full=True)

    assert result.figures_fetched == 2
    assert not result.changed


@pytest.mark.django_db
def test_later_syncs_reread_only_the_recent_days(fake, connection):
    def start_dates(path):
        return {q.get("start_date", [None])[0] for p, q in fake.queries if p == path}

    sync(connection)
    # First sync: everything, from each campaign's creation and, 31 days a call, from the
    # oldest mailbox's (2026-01-01): never Instantly's 30-day default.
    assert start_dates("/api/v2/campaigns/analytics/daily") == {"2026-10-01"}
    mailbox_starts = sorted(start_dates("/api/v2/accounts/analytics/daily"))
    assert mailbox_starts[0] == "2026-01-01" and len(mailbox_starts) >= 10
    last_synced = one(ProviderConnection, pk=connection.pk).last_synced_at
    fake.totals[CAMPAIGN_1]["emails_sent_count"] = 31
    fake.queries.clear()

    sync(one(ProviderConnection, pk=connection.pk))

    since = (last_synced - dt.timedelta(days=2)).date().isoformat()
    assert start_dates("/api/v2/campaigns/analytics/daily") == {since}
    assert start_dates("/api/v2/accounts/analytics/daily") == {since}
    # Steps and the overview are whole-life totals: always from the campaign's creation.
    assert start_dates("/api/v2/campaigns/analytics/steps") == {"2026-10-01"}
    assert start_dates("/api/v2/campaigns/analytics/overview") == {"2026-10-01"}
    fake.queries.clear()

    sync(one(ProviderConnection, pk=connection.pk), full=True)

    assert min(start_dates("/api/v2/accounts/analytics/daily")) == "2026-01-01"


# --- vanishing, placeholders, organizations --------------------------------------------------


@pytest.mark.django_db
def test_vanished_campaigns_and_mailboxes_are_marked_then_restored(fake, connection):
    sync(connection)
    gone_campaign = fake.campaigns.pop(1)
    gone_mailbox = fake.accounts.pop(2)

    result = sync(connection)

    assert (result.campaigns.vanished, result.accounts.vanished) == (1, 1)
    assert one(Campaign, instantly_id=CAMPAIGN_2).vanished_at is not None
    assert one(EmailAccount, email="c@send.example").vanished_at is not None
    assert rows(CampaignDailyStat, campaign__instantly_id=CAMPAIGN_2)  # kept, not deleted
    assert not sync(connection).changed  # stays vanished, counted once

    fake.campaigns.append(gone_campaign)
    fake.accounts.append(gone_mailbox)
    result = sync(connection)

    assert (result.campaigns.updated, result.accounts.updated) == (1, 1)
    assert one(Campaign, instantly_id=CAMPAIGN_2).vanished_at is None
    assert one(EmailAccount, email="c@send.example").vanished_at is None


@pytest.mark.django_db
def test_webhook_placeholder_campaign_is_completed_by_the_sync(fake, connection):
    with staff_scope():
        placeholder = Campaign.objects.unscoped().create(
            connection_id=connection.pk, instantly_id=CAMPAIGN_1, is_placeholder=True
        )

    result = sync(connection)

    assert result.campaigns.created == 2 and result.campaigns.updated == 1
    placeholder = one(Campaign, pk=placeholder.pk)
    assert (placeholder.is_placeholder, placeholder.name) == (False, "Dentists UK")


@pytest.mark.django_db
def test_staff_assignment_survives_syncs_and_new_rows_follow_it(fake, connection, org_a):
    sync(connection)
    assign_campaign(one(Campaign, instantly_id=CAMPAIGN_1), org_a)
    fake.campaigns[0]["name"] = "Dentists UK and IE"
    fake.totals[CAMPAIGN_1]["emails_sent_count"] = 50
    fake.daily[CAMPAIGN_1].append({"date": "2026-11-22", "sent": 20})

    sync(connection)

    campaign = one(Campaign, instantly_id=CAMPAIGN_1)
    assert (campaign.organization_id, campaign.name) == (org_a.pk, "Dentists UK and IE")
    assert {d.organization_id for d in rows(CampaignDailyStat, campaign=campaign)} == {org_a.pk}
    assert {s.organization_id for s in rows(CampaignSender, campaign=campaign)} == {org_a.pk}
    # Mailboxes stay in the shared pool; the customer reads them through the sender links.
    assert one(EmailAccount, email="a@send.example").organization_id is None


@pytest.mark.django_db
def test_dedicated_connection_rows_belong_to_its_organization(fake, org_b):
    dedicated = make_connection("Bluebird's own", organization=org_b, api_key=API_KEY)

    sync(dedicated)

    for model in (Campaign, EmailAccount, CampaignSender, CampaignDailyStat, EmailAccountDailyStat):
        assert {row.organization_id for row in rows(model)} == {org_b.pk}, model.__name__


@pytest.mark.django_db
def test_a_stray_unassigned_campaign_of_a_dedicated_workspace_joins_its_organization(fake, org_b):
    dedicated = make_connection("Bluebird's own", organization=org_b, api_key=API_KEY)
    with staff_scope():
        # A webhook created this before the connection was known to be Bluebird's.
        stray = Campaign.objects.unscoped().create(
            connection_id=dedicated.pk, instantly_id=CAMPAIGN_1, is_placeholder=True
        )
        contact = Contact.objects.unscoped().create(email="lead@x.example")
        Lead.objects.unscoped().create(campaign=stray, contact=contact)

    sync(dedicated)

    assert one(Campaign, pk=stray.pk).organization_id == org_b.pk
    lead = one(Lead, campaign=stray)
    assert lead.organization_id == org_b.pk
    assert one(Contact, pk=lead.contact_id).organization_id == org_b.pk


# --- failures and bookkeeping ------------------------------------------------------------------


@pytest.mark.django_db
def test_success_records_workspace_and_sync_time(fake, connection):
    result = sync(connection)

    connection = one(ProviderConnection, pk=connection.pk)
    assert (connection.workspace_id, connection.workspace_name) == (WORKSPACE_ID, "Agency HQ")
    assert (result.workspace_id, result.workspace_name) == (WORKSPACE_ID, "Agency HQ")
    assert connection.last_synced_at is not None
    assert connection.status == ProviderConnection.Status.ACTIVE
    assert fake.seen_keys == {f"Bearer {API_KEY}"}
    assert result.requests == sum(fake.calls.values())


@pytest.mark.django_db
def test_key_of_another_workspace_is_refused_once_rows_exist(fake, connection):
    sync(connection)
    fake.workspace = {"id": "0190a0a0-0000-7000-8000-0000000000ff", "name": "Someone else"}

    with pytest.raises(WorkspaceMismatchError):
        sync(connection)

    assert one(Campaign, instantly_id=CAMPAIGN_1).vanished_at is None
    connection = one(ProviderConnection, pk=connection.pk)
    assert connection.status == ProviderConnection.Status.ERROR
    assert "mirrors workspace" in connection.last_error


@pytest.mark.django_db
def test_instantly_failure_marks_the_connection_without_leaking_the_key(
    settings, connection, caplog
):
    settings.INSTANTLY_API_BASE_URL = BASE
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{BASE}/api/v2/workspaces/current",
            status=401,
            json={"statusCode": 401, "message": f"Invalid API key {API_KEY}"},
        )
        with pytest.raises(InstantlyAuthenticationError):
            sync(connection)
        with pytest.raises(InstantlyAuthenticationError):
            sync(connection)

    connection = one(ProviderConnection, pk=connection.pk)
    assert connection.status == ProviderConnection.Status.ERROR
    assert "API key was refused" in connection.last_error
    assert API_KEY not in connection.last_error
    assert API_KEY not in caplog.text
    (alert,) = rows(Alert, connection=connection)  # one open alert, not one per failure
    assert alert.kind == Alert.Kind.CONNECTION_ERROR and alert.resolved_at is None


@pytest.mark.django_db
def test_recovery_clears_the_error_and_resolves_the_alert(fake, connection):
    with staff_scope():
        ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
            status=ProviderConnection.Status.ERROR, last_error="old"
        )
        Alert.objects.unscoped().create(
            connection=connection, kind=Alert.Kind.CONNECTION_ERROR, title="failing"
        )
    connection = one(ProviderConnection, pk=connection.pk)

    sync(connection)

    connection = one(ProviderConnection, pk=connection.pk)
    assert (connection.status, connection.last_error) == (ProviderConnection.Status.ACTIVE, "")
    assert all(alert.resolved_at for alert in rows(Alert, connection=connection))


@pytest.mark.django_db
def test_network_failure_in_a_figures_thread_stops_the_sync(fake, connection):
    fake.broken.add("/api/v2/campaigns/analytics/steps")

    with pytest.raises(InstantlyConnectionError):
        sync(connection)

    connection = one(ProviderConnection, pk=connection.pk)
    assert connection.status == ProviderConnection.Status.ERROR
    assert "could not be reached" in connection.last_error
    assert connection.last_synced_at is None


@pytest.mark.django_db
def test_a_running_sync_blocks_a_second_one(fake, connection):
    other = connections.create_connection("default")  # another session: another process
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key(connection)])
            with pytest.raises(SyncAlreadyRunning):
                sync(connection)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(connection)])
    finally:
        other.close()
    assert sync(connection).campaigns.created == 3  # free again once the other is done


def test_mailbox_error_text_prefers_the_human_message():
    assert mailbox_error_text({"code": "EAUTH", "e_message": "Invalid login"}) == "Invalid login"
    assert mailbox_error_text({"code": "EAUTH"}) == "EAUTH"
    assert mailbox_error_text("  Paused by bounce protect ") == "Paused by bounce protect"
    assert mailbox_error_text({}) == ""
    assert mailbox_error_text(None) == ""


# --- export / import ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_then_import_gives_the_same_rows_and_is_idempotent(fake, connection, org_b):
    data = export_workspace(client_for(connection))
    assert json.loads(json.dumps(data)) == data  # JSON-ready
    assert API_KEY not in json.dumps(data)
    target = make_connection("Imported", organization=org_b, api_key="unused-key-0000")

    first = import_workspace(target, copy.deepcopy(data))
    second = import_workspace(target, copy.deepcopy(data))

    assert (first.campaigns.created, first.accounts.created) == (3, 3)
    assert first.campaign_daily.created == 3 and first.campaign_steps.created == 3
    assert first.account_daily.created == 2
    assert not second.changed
    assert len(rows(Campaign, connection_id=target.pk)) == 3


@pytest.mark.django_db
def test_import_refuses_a_file_that_is_not_an_export(connection):
    with pytest.raises(ValueError, match="not an"):
        import_workspace(connection, {"workspace": {"id": "x"}})


# --- tasks ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_task_returns_counts_and_skips_disabled_connections(fake, connection):
    outcome = sync_workspace_task(str(connection.pk))
    assert outcome["campaigns"]["created"] == 3
    with staff_scope():
        ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
            status=ProviderConnection.Status.DISABLED
        )
    assert sync_workspace_task(str(connection.pk))["skipped"] == "connection disabled"


@pytest.mark.django_db
def test_sync_task_reports_an_instantly_failure_instead_of_raising(settings, connection):
    settings.INSTANTLY_API_BASE_URL = BASE
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/v2/workspaces/current", status=402, json={"message": "No plan"})
        outcome = sync_workspace_task(str(connection.pk))
    assert "paid plan" in outcome["error"]


@pytest.mark.django_db
def test_sync_all_creates_the_shared_connection_and_queues_every_enabled_one(
    settings, monkeypatch, org_a
):
    settings.INSTANTLY_API_KEY = API_KEY
    queued = []
    monkeypatch.setattr(sync_workspace_task, "delay", lambda cid: queued.append(cid))
    make_connection(
        "Old", organization=org_a, status=ProviderConnection.Status.DISABLED, api_key="old-key-0000"
    )

    outcome = sync_all_workspaces()

    shared = one(ProviderConnection, is_shared=True)
    assert outcome == {"queued": 1}
    assert queued == [str(shared.pk)]


# --- what a sync leaves for operators: its run, its metrics, its log lines ----------------------


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_sync_is_recorded_with_its_429s_requests_and_time(fake, connection):
    fake.throttled["/api/v2/campaigns"] = 2
    name = connection.name
    throttled_before = sample(
        "salesbrain_instantly_requests_total", endpoint="/api/v2/campaigns", status="429"
    )
    timed_before = sample("salesbrain_sync_duration_seconds_count", connection=name)
    ok_before = sample("salesbrain_syncs_total", connection=name, outcome="ok")

    result = sync(connection)

    (run,) = rows(SyncRun, connection=connection)
    assert run.outcome == SyncRun.Outcome.OK
    assert run.throttled == 2
    assert run.requests == result.requests > 2
    assert run.finished_at is not None and run.duration_seconds is not None
    assert run.counts["campaigns_created"] == 3
    assert sample(
        "salesbrain_instantly_requests_total", endpoint="/api/v2/campaigns", status="429"
    ) == (throttled_before + 2)
    assert sample("salesbrain_sync_duration_seconds_count", connection=name) == timed_before + 1
    assert sample("salesbrain_syncs_total", connection=name, outcome="ok") == ok_before + 1


def test_a_failed_sync_is_recorded_as_failed(fake, connection):
    fake.broken.add("/api/v2/accounts")
    failed_before = sample("salesbrain_syncs_total", connection=connection.name, outcome="failed")
    with pytest.raises(InstantlyConnectionError):
        sync(connection)
    (run,) = rows(SyncRun, connection=connection)
    assert run.outcome == SyncRun.Outcome.FAILED
    assert "connection" in run.error.lower()
    assert API_KEY not in run.error
    assert (
        sample("salesbrain_syncs_total", connection=connection.name, outcome="failed")
        == failed_before + 1
    )


def test_sync_lines_carry_the_sync_id_even_from_the_fetching_threads(fake, connection):
    fake.throttled["/api/v2/campaigns/analytics/daily"] = 1  # fetched in a pool thread
    with json_lines() as captured:
        sync(connection)
    (run,) = rows(SyncRun, connection=connection)
    (done,) = captured.matching("synced Instantly workspace")
    assert done["sync_id"] == run.pk
    assert done["connection_id"] == str(connection.pk)
    (retry,) = captured.matching("/analytics/daily: attempt 1/")
    assert retry["sync_id"] == run.pk


def test_each_sync_checks_whether_instantly_disabled_the_subscription(fake, connection):
    connection.webhook_subscription_id = "wh-1"
    with staff_scope():
        connection.save()
    fake.webhooks = [{"id": "wh-1", "status": -1, "event_type": "all_events"}]
    sync(connection)
    (stored,) = rows(ProviderConnection, pk=connection.pk)
    assert stored.webhook_subscription_state == SubscriptionState.DISABLED
    assert stored.webhook_checked_at is not None
    (state,) = [s for s in monitoring.connection_states() if s.name == connection.name]
    assert state.subscription_disabled

    fake.webhooks = [{"id": "wh-1", "status": 1, "event_type": "all_events"}]
    sync(connection)
    (stored,) = rows(ProviderConnection, pk=connection.pk)
    assert stored.webhook_subscription_state == SubscriptionState.ACTIVE


# --- labels, overview, not-sending status, step numbering ------------------------------------


@pytest.mark.django_db
def test_custom_lead_labels_are_kept_with_their_meaning(fake, connection):
    result = sync(connection)

    labels = {label.label: label for label in rows(LeadLabel, connection_id=connection.pk)}
    assert set(labels) == {"Hot Lead", "follow_up"}
    assert (labels["Hot Lead"].meaning, labels["Hot Lead"].interest_value) == (
        LabelMeaning.POSITIVE,
        17,
    )
    assert labels["follow_up"].meaning == LabelMeaning.NEUTRAL
    assert labels["Hot Lead"].organization_id is None  # shared workspace
    assert result.lead_labels.created == 2

    fake.labels[0]["interest_status_label"] = "negative"
    del fake.labels[1]
    again = sync(one(ProviderConnection, pk=connection.pk))

    assert one(LeadLabel, label="Hot Lead").meaning == LabelMeaning.NEGATIVE
    assert one(LeadLabel, label="follow_up").vanished_at is not None
    assert (again.lead_labels.updated, again.lead_labels.vanished) == (1, 1)


@pytest.mark.django_db
def test_overview_totals_and_not_sending_status_are_stored(fake, connection):
    fake.campaigns[0]["not_sending_status"] = 3
    sync(connection)

    first = one(Campaign, instantly_id=CAMPAIGN_1)
    assert first.analytics_overview["total_interested"] == 3
    assert first.analytics_overview["total_meeting_booked"] == 2
    assert first.analytics_overview["total_closed"] == 1
    assert first.not_sending_status == NotSendingStatus.DAILY_LIMIT
    assert one(Campaign, instantly_id=CAMPAIGN_2).not_sending_status == ""
    (path, query) = next((p, q) for p, q in fake.queries if p.endswith("/analytics/steps"))
    assert query["include_opportunities_count"] == ["true"]


@pytest.mark.django_db
def test_step_rows_numbered_from_zero_still_line_up_with_webhook_steps(fake, connection):
    """Should a campaign's rows start at step "0", every step moves up one: the first email is
    step 1 either way, as in webhooks."""
    fake.steps[CAMPAIGN_1] = [
        {"step": "0", "variant": "0", "sent": 20},
        {"step": "1", "variant": "1", "sent": 10},
    ]
    sync(connection)

    steps = {(s.step, s.variant) for s in rows(CampaignStepStat, campaign__instantly_id=CAMPAIGN_1)}
    assert steps == {(1, 1), (2, 2)}


def test_mailbox_history_is_asked_for_in_windows_of_at_most_31_days():
    windows = account_windows(dt.date(2026, 1, 1), dt.date(2026, 3, 5))
    assert windows[0] == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert windows[-1][1] == dt.date(2026, 3, 5)
    assert all((end - start).days < 31 for start, end in windows)
    assert all(b[0] - a[1] == dt.timedelta(days=1) for a, b in itertools.pairwise(windows))
