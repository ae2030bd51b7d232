"""Numbers that mean one thing: rate changes in percentage points, "—" where nothing was sent,
every figure on a page following the chosen period (or saying "all time"), and the period
carried from page to page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import CampaignDailyStat, CampaignStepStat
from campaigns.views import formatting
from messaging.models import Message
from testkit import make_campaign, make_contact, make_message, make_shared_connection, make_thread

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


def _at(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


@pytest.fixture
def campaign(org_a):
    """Org A: 100 sent a day in the last 7 days (50 opened, 4 replied, 1 bounced), 50 a day in
    the 7 before (10 opened, 1 replied, 2 bounced); nothing before that."""
    campaign = make_campaign(make_shared_connection(), "fig", organization=org_a, name="Fig")
    with staff_scope():
        for offset in range(14):
            current = offset < 7
            CampaignDailyStat.objects.create(
                organization=org_a,
                campaign=campaign,
                date=TODAY - dt.timedelta(days=offset),
                sent=100 if current else 50,
                unique_opened=50 if current else 10,
                unique_replied=4 if current else 1,
                bounced=1 if current else 2,
            )
    return campaign


def cards_of(response) -> dict:
    return {card.key: card for card in response.context["cards"]}


def test_points_and_dash_formatting():
    assert formatting.points(0.225) == "+22.5 pp"
    assert formatting.points(-0.03) == "-3.0 pp"
    assert formatting.points(None) == "—"
    assert formatting.rate_of_sent(0.0, 0) == "—"
    assert formatting.rate_of_sent(0.5, 10) == "50.0%"


def test_rate_changes_read_in_percentage_points(client, alice, campaign):
    client.force_login(alice)
    response = client.get(reverse("portal:dashboard"), {"days": "7"})
    cards = cards_of(response)
    assert (cards["open_rate"].value, cards["open_rate"].previous) == ("50.0%", "20.0%")
    assert cards["open_rate"].change == "+30.0 pp"
    assert cards["reply_rate"].change == "+2.0 pp"
    assert cards["bounce_rate"].change == "-3.0 pp"
    assert (cards["bounce_rate"].trend, cards["bounce_rate"].verdict) == ("down", "good")
    # Counts still change relatively.
    assert cards["sent"].change == "+100.0%"
    assert "+30.0 pp" in response.content.decode()


def test_a_period_without_sends_shows_a_dash_not_zero_percent(client, alice, campaign):
    client.force_login(alice)
    start, end = TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=30)
    query = {"start": start.isoformat(), "end": end.isoformat()}
    cards = cards_of(client.get(reverse("portal:dashboard"), query))
    assert cards["sent"].value == "0"
    for key in ("open_rate", "click_rate", "reply_rate", "bounce_rate"):
        assert (cards[key].value, cards[key].previous, cards[key].change) == ("—", "—", "—")
        assert cards[key].trend == "flat"
    response = client.get(reverse("portal:campaigns"), query)
    row = response.context["rows"][0]
    assert (row["sent"], row["open_rate"], row["reply_rate"], row["bounce_rate"]) == (
        "0", "—", "—", "—",
    )  # fmt: skip
    assert "0.0%" not in response.content.decode()


def test_a_rate_against_a_previous_period_without_sends_has_no_change(client, alice, campaign):
    """Days 7..13 ago sent; the 7 days before them did not: the rate is shown, its change is not
    a number."""
    client.force_login(alice)
    start, end = TODAY - dt.timedelta(days=13), TODAY - dt.timedelta(days=7)
    query = {"start": start.isoformat(), "end": end.isoformat()}
    cards = cards_of(client.get(reverse("portal:dashboard"), query))
    assert (cards["open_rate"].value, cards["open_rate"].previous) == ("20.0%", "—")
    assert (cards["open_rate"].change, cards["open_rate"].trend) == ("—", "flat")
    assert cards["sent"].change == "new"


@pytest.fixture
def replies(org_a, campaign):
    """A reply 3 days ago and one 20 days ago."""
    made = {}
    for name, days_ago in (("recent", 3), ("older", 20)):
        contact = make_contact(f"{name}@lead.test", organization=org_a, first_name=name.title())
        thread = make_thread(
            campaign, contact, subject=f"{name} thread", has_reply=True,
            last_inbound_at=_at(days_ago), last_message_at=_at(days_ago),
        )  # fmt: skip
        made[name] = thread
    return made


def test_latest_replies_on_the_dashboard_follow_the_period(client, alice, replies):
    client.force_login(alice)
    week = client.get(reverse("portal:dashboard"), {"days": "7"}).content.decode()
    assert "recent@lead.test" in week and "older@lead.test" not in week
    assert 'Latest replies <span class="muted small">· last 7 days</span>' in week
    month = client.get(reverse("portal:dashboard"), {"days": "30"}).content.decode()
    assert "recent@lead.test" in month and "older@lead.test" in month


def test_latest_replies_on_the_campaign_page_follow_the_period(client, alice, campaign, replies):
    client.force_login(alice)
    url = reverse("portal:campaign", args=[campaign.pk])
    week = client.get(url, {"days": "7"}).content.decode()
    assert "recent thread" in week and "older thread" not in week
    everything = client.get(url, {"days": "all"}).content.decode()
    assert "older thread" in everything and "· all time</span>" in everything


def test_step_table_from_instantly_says_all_time(client, alice, org_a, campaign):
    with staff_scope():
        CampaignStepStat.objects.create(
            organization=org_a, campaign=campaign, step=1, variant=1, sent=900, unique_replied=9
        )
    client.force_login(alice)
    response = client.get(reverse("portal:campaign", args=[campaign.pk]), {"days": "7"})
    assert response.context["steps_period"] == "all time"
    assert response.context["steps"][0]["sent"] == "900"
    assert 'Steps and variants <span class="muted small">· all time</span>' in (
        response.content.decode()
    )


def test_step_table_counted_from_messages_follows_the_period(client, alice, org_a, campaign):
    contact = make_contact("steps@lead.test", organization=org_a)
    thread = make_thread(campaign, contact)
    for days_ago in (2, 3, 20):
        make_message(thread, step=1, variant=2, sent_at=_at(days_ago))
    make_message(thread, step=1, variant=2, sent_at=_at(2), direction=Message.Direction.INBOUND)
    client.force_login(alice)
    url = reverse("portal:campaign", args=[campaign.pk])
    week = client.get(url, {"days": "7"})
    assert week.context["steps_period"] == "last 7 days"
    assert [(s["variant"], s["sent"], s["replied"], s["reply_rate"]) for s in week.context["steps"]] == [
        ("B", "2", "1", "50.0%")
    ]  # fmt: skip
    everything = client.get(url, {"days": "all"})
    assert everything.context["steps_period"] == "all time"
    assert everything.context["steps"][0]["sent"] == "3"


@pytest.mark.parametrize(
    "name", ["portal:dashboard", "portal:campaigns", "portal:leads", "inbox:list"]
)
def test_the_chosen_period_is_carried_by_the_navigation(client, alice, campaign, name):
    client.force_login(alice)
    page = client.get(reverse(name), {"days": "7"}).content.decode()
    for target in ("portal:dashboard", "portal:campaigns", "inbox:list", "portal:leads"):
        assert f'href="{reverse(target)}?days=7"' in page


def test_custom_dates_are_carried_and_kept_by_the_filters(client, alice, campaign):
    client.force_login(alice)
    query = {"start": "2026-01-01", "end": "2026-01-31"}
    for name in ("inbox:list", "portal:leads"):
        response = client.get(reverse(name), query)
        page = response.content.decode()
        assert f'href="{reverse("portal:campaigns")}?start=2026-01-01&amp;end=2026-01-31"' in page
        assert '<input type="hidden" name="start" value="2026-01-01">' in page
        assert '<input type="hidden" name="end" value="2026-01-31">' in page
        # The period alone is no filter: the list does not say "match this filter".
        assert response.context["filtered"] is False


def test_all_time_is_carried_except_to_the_dashboard(client, alice, campaign):
    client.force_login(alice)
    page = client.get(reverse("portal:campaigns"), {"days": "all"}).content.decode()
    assert f'href="{reverse("portal:leads")}?days=all"' in page
    assert f'href="{reverse("portal:dashboard")}"' in page


def test_links_between_pages_keep_the_period(client, alice, campaign):
    client.force_login(alice)
    dashboard = client.get(reverse("portal:dashboard"), {"days": "90"}).content.decode()
    assert f'href="{reverse("inbox:list")}?days=90">Open inbox' in dashboard
    detail = client.get(reverse("portal:campaign", args=[campaign.pk]), {"days": "90"})
    page = detail.content.decode()
    assert f'href="{reverse("portal:leads")}?campaign={campaign.pk}&amp;days=90"' in page
    assert f'href="{reverse("inbox:list")}?campaign={campaign.pk}&amp;days=90"' in page


def test_an_invalid_period_is_not_carried(client, alice, campaign):
    client.force_login(alice)
    page = client.get(reverse("portal:leads"), {"days": "13"}).content.decode()
    assert f'href="{reverse("portal:campaigns")}"' in page


def test_a_thread_carries_the_period_of_the_inbox_it_came_from(client, alice, campaign, org_a):
    thread = make_thread(campaign, make_contact("t@lead.test", organization=org_a), has_reply=True)
    client.force_login(alice)
    page = client.get(reverse("inbox:thread", args=[thread.pk]), {"back": "days=7&unread=on"})
    assert f'href="{reverse("portal:campaigns")}?days=7"' in page.content.decode()
