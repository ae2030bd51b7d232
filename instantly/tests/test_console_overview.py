"""The agency overview (the console's home for staff): exact figures for a scripted pair of
customers plus the shared workspace, links to the lists behind them, and a query count that
does not grow with the number of organizations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import staff_scope
from campaigns.models import (
    Activity,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    EmailAccount,
    MailboxStatus,
)
from instantly.console.overview import agency_overview
from instantly.models import Alert
from testkit import count_queries, make_campaign

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()  # the page counts up to today (UTC)


def _day(campaign, days_ago, **counts):
    CampaignDailyStat.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        date=TODAY - dt.timedelta(days=days_ago),
        **counts,
    )


def _mailbox(connection, email, status=MailboxStatus.ACTIVE):
    return EmailAccount.objects.create(connection_id=connection.pk, email=email, status=status)


def _sends_from(campaign, *mailboxes):
    for mailbox in mailboxes:
        CampaignSender.objects.create(
            organization_id=campaign.organization_id, campaign=campaign, email_account=mailbox
        )


@pytest.fixture
def scripted(org_a, org_b, shared_connection):
    """Org A: two live campaigns (one active), one vanished; three mailboxes (one failing, one
    shared with B); two open alerts and one resolved; replies. Org B: one active campaign,
    no replies. Shared workspace: one unassigned active campaign."""
    conn = shared_connection
    a1 = make_campaign(conn, "a1", organization=org_a, name="A one", status=CampaignStatus.ACTIVE)
    a2 = make_campaign(conn, "a2", organization=org_a, name="A two", status=CampaignStatus.PAUSED)
    make_campaign(
        conn, "a3", organization=org_a, status=CampaignStatus.ACTIVE, vanished_at=timezone.now()
    )
    b1 = make_campaign(conn, "b1", organization=org_b, status=CampaignStatus.RUNNING_SUBSEQUENCES)
    s1 = make_campaign(conn, "s1", organization=None, status=CampaignStatus.ACTIVE)
    synced = dt.datetime(2026, 3, 12, 6, 30, tzinfo=dt.UTC)
    reply_at = dt.datetime(2026, 3, 11, 15, 45, tzinfo=dt.UTC)
    with staff_scope():
        for campaign in (a1, a2, b1):
            type(campaign).objects.filter(pk=campaign.pk).update(synced_at=synced)
        _day(a1, 0, sent=100, unique_replied=3, interested=1)
        _day(a1, 3, sent=200, unique_replied=6, interested=2)
        _day(a2, 6, sent=50, unique_replied=1)
        _day(a1, 7, sent=150, unique_replied=3)  # previous 7 days
        _day(a2, 13, sent=50, unique_replied=1, interested=1)  # previous 7 days
        _day(a1, 14, sent=999, unique_replied=99, interested=9)  # outside both windows
        _day(b1, 0, sent=40)
        _day(b1, 2, sent=60)
        _day(s1, 0, sent=10, unique_replied=1)
        good = _mailbox(conn, "good@agency.example")
        failing = _mailbox(conn, "failing@agency.example", MailboxStatus.SENDING_ERROR)
        both = _mailbox(conn, "both@agency.example", MailboxStatus.PAUSED)
        spare = _mailbox(conn, "spare@agency.example")
        _sends_from(a1, good, failing, both)
        _sends_from(a2, good)
        _sends_from(b1, both)
        _sends_from(s1, spare)
        for title, resolved in (("one", None), ("two", None), ("old", timezone.now())):
            Alert.objects.create(
                organization=org_a, kind=Alert.Kind.ACCOUNT_ERROR, title=title, resolved_at=resolved
            )
        Alert.objects.create(organization=None, kind=Alert.Kind.OTHER, title="shared")
        for at in (reply_at - dt.timedelta(days=2), reply_at):
            Activity.objects.create(
                organization=org_a, campaign=a1, kind=Activity.Kind.REPLIED, occurred_at=at
            )
        Activity.objects.create(
            organization=org_b, campaign=b1, kind=Activity.Kind.BOUNCED, occurred_at=reply_at
        )
    return {"synced": synced, "reply_at": reply_at}


def _figures(row):
    return {
        "name": row.name,
        "active": row.active_campaigns,
        "campaigns": row.campaigns,
        "today": row.sent_today,
        "sent": (row.sent_7d, row.sent_prev_7d),
        "replies": (row.replies_7d, row.replies_prev_7d),
        "reply_rate": (row.reply_rate_7d, row.reply_rate_prev_7d),
        "positive": (row.positive_7d, row.positive_prev_7d),
        "mailboxes": (row.mailboxes, row.unhealthy_mailboxes),
        "alerts": row.open_alerts,
        "last_reply": row.last_reply_at,
        "last_sync": row.last_sync_at,
    }


def test_the_overview_figures_of_two_customers_and_the_shared_workspace_are_exact(scripted):
    with staff_scope():
        shared, acme, bluebird = (_figures(row) for row in agency_overview(TODAY))
    assert acme == {
        "name": "Acme Outreach",
        "active": 1,
        "campaigns": 2,
        "today": 100,
        "sent": (350, 200),
        "replies": (10, 4),
        "reply_rate": (0.0286, 0.02),
        "positive": (3, 1),
        "mailboxes": (3, 2),
        "alerts": 2,
        "last_reply": scripted["reply_at"],
        "last_sync": scripted["synced"],
    }
    assert bluebird == {
        "name": "Bluebird Growth",
        "active": 1,
        "campaigns": 1,
        "today": 40,
        "sent": (100, 0),
        "replies": (0, 0),
        "reply_rate": (0.0, 0.0),
        "positive": (0, 0),
        "mailboxes": (1, 1),
        "alerts": 0,
        "last_reply": None,
        "last_sync": scripted["synced"],
    }
    assert shared == {
        "name": "Shared workspace (unassigned)",
        "active": 1,
        "campaigns": 1,
        "today": 10,
        "sent": (10, 0),
        "replies": (1, 0),
        "reply_rate": (0.1, 0.0),
        "positive": (0, 0),
        "mailboxes": (1, 0),
        "alerts": 1,
        "last_reply": None,
        "last_sync": None,
    }


def _add_customers(connection, count):
    """`count` more organizations, each with an active campaign, a mailbox, figures, an alert
    and a reply: every figure kind has rows to group."""
    now = timezone.now()
    for i in range(count):
        org = Organization.objects.create(name=f"Customer {i:03}", slug=f"customer-{i:03}")
        campaign = make_campaign(
            connection, f"extra-{i}", organization=org, status=CampaignStatus.ACTIVE
        )
        with staff_scope():
            CampaignDailyStat.objects.create(
                organization=org, campaign=campaign, date=now.date(), sent=100, unique_replied=2
            )
            mailbox = _mailbox(connection, f"box{i}@agency.example")
            _sends_from(campaign, mailbox)
            Alert.objects.create(organization=org, kind=Alert.Kind.OTHER, title=f"alert {i}")
            Activity.objects.create(
                organization=org, campaign=campaign, kind=Activity.Kind.REPLIED, occurred_at=now
            )


def test_the_overview_costs_the_same_queries_for_2_or_100_organizations(
    client, adam, scripted, shared_connection
):
    client.force_login(adam)
    with_two = count_queries(client, "/admin/")
    _add_customers(shared_connection, 98)
    with_hundred = count_queries(client, "/admin/")
    assert Organization.objects.count() == 100
    assert with_hundred == with_two
    # 6 for the figures (organizations, campaigns, daily figures, mailboxes, alerts, replies),
    # the rest is the session, user, memberships, staff role, tenant scope and permissions.
    assert with_hundred <= 16, with_hundred


def test_the_console_opens_on_the_overview_with_links_behind_each_figure(
    client, olga, scripted, org_a
):
    client.force_login(olga)
    html = client.get("/admin/").content.decode()
    assert "Agency overview" in html
    assert html.index("Shared workspace (unassigned)") < html.index("Acme Outreach")
    assert html.index("Acme Outreach") < html.index("Bluebird Growth")
    assert f"/admin/campaigns/campaign/?organization={org_a.pk}&amp;status__in=" in html
    assert f"/admin/campaigns/emailaccount/?used_by={org_a.pk}&amp;health=unhealthy" in html
    assert f"/admin/instantly/alert/?organization={org_a.pk}&amp;resolved=no" in html
    assert f'name="organization_id" value="{org_a.pk}"' in html  # view as this customer
    # Sorting by sends (descending) puts the busier customer first; shared stays on top.
    html = client.get("/admin/?o=-sent").content.decode()
    assert html.index("Shared workspace") < html.index("Acme Outreach")
    html = client.get("/admin/?o=sent").content.decode()
    assert html.index("Bluebird Growth") < html.index("Acme Outreach")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/campaigns/campaign/?organization={org}&status__in=active,running_subsequences",
        "/admin/campaigns/emailaccount/?used_by={org}&health=unhealthy",
        "/admin/campaigns/campaigndailystat/?organization={org}&date__gte=2026-03-06",
        "/admin/instantly/alert/?organization={org}&resolved=no",
        "/admin/campaigns/activity/?organization={org}&kind__exact=replied",
    ],
)
def test_the_lists_behind_the_figures_load_filtered(client, adam, scripted, org_a, url):
    client.force_login(adam)
    response = client.get(url.format(org=org_a.pk))
    assert response.status_code == 200  # an unknown lookup would redirect with ?e=1


def test_the_mailboxes_behind_the_unhealthy_figure_are_the_failing_ones(
    client, adam, scripted, org_a
):
    client.force_login(adam)
    html = client.get(f"/admin/campaigns/emailaccount/?used_by={org_a.pk}&health=unhealthy")
    html = html.content.decode()
    assert "failing@agency.example" in html and "both@agency.example" in html
    assert "good@agency.example" not in html and "spare@agency.example" not in html
