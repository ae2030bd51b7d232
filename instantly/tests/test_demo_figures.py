"""The demo looks like real cold email: per customer over the last 30 days, replies are a few
percent of the emails sent and bounces stay under 3% (campaign and mailbox figures alike)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import staff_scope, tenant_scope
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    EmailAccountDailyStat,
    MailboxCampaignDailyStat,
)
from instantly.demo import demo_workspace

pytestmark = pytest.mark.django_db


def test_each_demo_customer_has_a_plausible_30_day_reply_and_bounce_rate():
    call_command("seed_demo", stdout=StringIO())
    since = timezone.now().date() - dt.timedelta(days=29)
    for slug in ("acme", "bluebird"):
        org = Organization.objects.get(slug=slug)
        with tenant_scope(org.pk):
            days = CampaignDailyStat.objects.filter(date__gte=since)
            t = days.aggregate(
                sent=Sum("sent"), replied=Sum("unique_replied"), bounced=Sum("bounced")
            )
            own_sends = MailboxCampaignDailyStat.objects.filter(date__gte=since).count()
            busiest = max(days.values_list("sent", flat=True))
            assert Campaign.objects.count() >= 4
        with staff_scope():  # the whole mailboxes its campaigns send from (staff's view)
            used = CampaignSender.objects.filter(organization=org).values("email_account_id")
            boxes = EmailAccountDailyStat.objects.filter(
                email_account_id__in=used, date__gte=since
            ).aggregate(sent=Sum("sent"), bounced=Sum("bounced"))
        assert own_sends > 0, slug  # the customer's own view of shared mailboxes has figures
        assert t["sent"] > 5000, (slug, t)
        assert 0.01 <= t["replied"] / t["sent"] <= 0.08, (slug, t)
        assert t["bounced"] / t["sent"] < 0.03, (slug, t)
        assert 0 < boxes["bounced"] / boxes["sent"] < 0.03, (slug, boxes)
        assert 50 <= busiest <= 300 + 40, slug  # a day's volume plus a few story sends


def test_the_demo_volume_follows_the_weekday_rhythm_and_some_campaigns_do_better():
    workspace = demo_workspace()
    rates, weekend, weekday = [], 0, 0
    for campaign in workspace.campaigns:
        rows = workspace.campaign_daily_analytics(campaign["id"])
        sent = sum(r["sent"] for r in rows)
        if sent < 5000:
            continue  # drafts and campaigns that stopped long ago
        rates.append(sum(r["unique_replies"] for r in rows) / sent)
        for r in rows:
            if dt.date.fromisoformat(r["date"]).weekday() >= 5:
                weekend += r["sent"]
            else:
                weekday += r["sent"]
    assert len(rates) >= 6
    assert max(rates) >= 2 * min(rates)  # clearly better campaigns
    assert weekend < weekday * 0.02  # the schedules send Monday to Friday
