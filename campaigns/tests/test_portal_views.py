"""The customer portal's pages: who may open them, what each persona sees, and nothing else.

Personas (conftest): alice owns org A, victor views org A, bob is a member of org B, charlie
belongs to no organization, olga is agency staff (sb_operator), anonymous is nobody.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import MemberRole
from accounts.tenancy import staff_scope
from campaigns import charts
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    InterestStatus,
    Lead,
    LeadStatus,
    MailboxCampaignDailyStat,
    MailboxStatus,
    NotSendingStatus,
)
from testkit import build_org_dataset, count_queries, make_shared_connection

pytestmark = pytest.mark.django_db

LIST_PAGES = ["portal:dashboard", "portal:campaigns", "portal:leads", "portal:mailboxes"]
ALL_PAGES = [*LIST_PAGES, "portal:leads-export"]


@pytest.fixture
def data_a(org_a):
    return build_org_dataset(org_a, campaigns=3, leads_per_campaign=12, replies_per_campaign=4)


@pytest.fixture
def data_b(org_b, data_a):
    return build_org_dataset(org_b, campaigns=2, leads_per_campaign=6, replies_per_campaign=2)


def login(client, user):
    client.force_login(user)
    return client


def body(response) -> str:
    return response.content.decode()


def shown(campaign) -> str:
    """What marks a campaign on a page: the link to it (names may repeat across tenants)."""
    return reverse("portal:campaign", args=[campaign.pk])


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PAGES)
def test_anonymous_is_sent_to_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_is_sent_to_login_from_a_campaign(client, data_a):
    url = reverse("portal:campaign", args=[data_a.campaigns[0].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["alice", "victor"])
@pytest.mark.parametrize("name", LIST_PAGES)
def test_org_a_members_see_org_a_and_nothing_of_org_b(client, request, persona, name, data_b):
    data_a = request.getfixturevalue("data_a")
    login(client, request.getfixturevalue(persona))
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = body(response)
    assert "Acme Outreach" in page
    if name != "portal:mailboxes":
        assert shown(data_a.campaigns[0]) in page
    for campaign in data_b.campaigns:
        assert shown(campaign) not in page
    for mailbox in data_b.mailboxes:
        assert mailbox.email not in page
    for contact in data_b.contacts:
        assert contact.email not in page


@pytest.mark.parametrize("name", LIST_PAGES)
def test_org_b_member_sees_org_b_only(client, bob, data_a, data_b, name):
    login(client, bob)
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = body(response)
    assert "Bluebird Growth" in page
    for mailbox in data_a.mailboxes:
        assert mailbox.email not in page
    for contact in data_a.contacts:
        assert contact.email not in page


@pytest.mark.parametrize("name", LIST_PAGES)
def test_user_without_organization_gets_a_friendly_empty_page(client, charlie, data_a, name):
    login(client, charlie)
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = body(response)
    assert "not part of an organization yet" in page
    assert shown(data_a.campaigns[0]) not in page


def test_staff_without_a_chosen_organization_are_asked_to_pick_one(client, olga, data_b):
    login(client, olga)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    page = body(response)
    assert "Choose an organization" in page
    assert "Acme Outreach" in page and "Bluebird Growth" in page
    assert shown(data_b.campaigns[0]) not in page


def test_staff_viewing_an_organization_see_only_that_organization(
    client, olga, org_a, org_b, data_a, data_b
):
    """Staff run with the bypass scope: only the pages' explicit filter keeps org B out."""
    login(client, olga)
    response = client.post(
        reverse("switch_organization"), {"organization_id": str(org_a.pk), "next": "/campaigns/"}
    )
    assert response.status_code == 302 and response["Location"] == "/campaigns/"
    page = body(client.get(reverse("portal:campaigns")))
    assert shown(data_a.campaigns[0]) in page
    assert shown(data_b.campaigns[0]) not in page
    rows = list(csv.reader(io.StringIO(body(client.get(reverse("portal:leads-export"))))))
    assert {r[0] for r in rows[1:]} == {lead.contact.email for lead in data_a.leads}
    foreign = reverse("portal:campaign", args=[data_b.campaigns[0].pk])
    assert client.get(foreign).status_code == 404

    client.post(reverse("switch_organization"), {"organization_id": str(org_b.pk)})
    page = body(client.get(reverse("portal:campaigns")))
    assert shown(data_b.campaigns[0]) in page
    assert shown(data_a.campaigns[0]) not in page


def test_staff_can_stop_viewing_an_organization(client, olga, org_a, data_a):
    login(client, olga)
    client.post(reverse("switch_organization"), {"organization_id": str(org_a.pk)})
    client.post(reverse("switch_organization"), {"organization_id": ""})
    assert "Choose an organization" in body(client.get(reverse("portal:dashboard")))


def test_member_cannot_switch_to_an_organization_they_do_not_belong_to(client, alice, org_b):
    login(client, alice)
    response = client.post(reverse("switch_organization"), {"organization_id": str(org_b.pk)})
    assert response.status_code == 404
    response = client.post(reverse("switch_organization"), {"organization_id": "not-a-uuid"})
    assert response.status_code == 404


def test_user_with_two_organizations_switches_between_them(
    client, alice, org_a, org_b, data_a, data_b
):
    Membership.objects.create(user=alice, organization=org_b, role=MemberRole.VIEWER)
    login(client, alice)
    page = body(client.get(reverse("portal:campaigns")))
    assert 'id="org-select"' in page
    assert shown(data_a.campaigns[0]) in page
    client.post(reverse("switch_organization"), {"organization_id": str(org_b.pk)})
    page = body(client.get(reverse("portal:campaigns")))
    assert shown(data_b.campaigns[0]) in page
    assert shown(data_a.campaigns[0]) not in page


def test_switch_ignores_a_next_url_on_another_host(client, alice, org_a):
    login(client, alice)
    response = client.post(
        reverse("switch_organization"),
        {"organization_id": str(org_a.pk), "next": "https://evil.example.com/"},
    )
    assert response["Location"] == "/"


# --- Campaign detail and 404s -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "victor"])
def test_campaign_detail_shows_totals_steps_and_chart(client, request, persona, data_a):
    login(client, request.getfixturevalue(persona))
    campaign = data_a.campaigns[0]
    response = client.get(reverse("portal:campaign", args=[campaign.pk]))
    assert response.status_code == 200
    page = body(response)
    assert campaign.name in page
    assert "Steps and variants" in page
    assert "{{companyName}}" in page  # subject of step 1, variant A, from the sequence
    assert page.count('role="img"') >= 2  # the chart, drawn twice (wide and narrow)
    assert len(response.context["steps"]) == 4  # step 1 (A, B), step 2, step 3
    assert [card.key for card in response.context["cards"]][:2] == ["sent", "open_rate"]


@pytest.mark.parametrize("days", ["7", "90", "all"])
def test_campaign_detail_accepts_every_period(client, alice, data_a, days):
    login(client, alice)
    url = reverse("portal:campaign", args=[data_a.campaigns[0].pk])
    assert client.get(url, {"days": days}).status_code == 200


def test_another_organizations_campaign_answers_404(client, alice, bob, data_a, data_b):
    login(client, alice)
    assert client.get(reverse("portal:campaign", args=[data_b.campaigns[0].pk])).status_code == 404
    assert client.get(reverse("portal:campaign", args=[uuid.uuid4()])).status_code == 404
    login(client, bob)
    assert client.get(reverse("portal:campaign", args=[data_a.campaigns[0].pk])).status_code == 404


def test_shared_workspace_campaign_answers_404_to_members(client, alice, data_a):
    with staff_scope():
        shared = Campaign.objects.create(
            organization=None,
            connection_id=data_a.connection.pk,
            instantly_id="unassigned",
            name="X",
        )
    login(client, alice)
    assert client.get(reverse("portal:campaign", args=[shared.pk])).status_code == 404


def test_campaign_list_shows_status_and_rates(client, alice, org_a, data_a):
    login(client, alice)
    response = client.get(reverse("portal:campaigns"), {"days": "all"})
    rows = response.context["rows"]
    assert {r["campaign"].pk for r in rows} == {c.pk for c in data_a.campaigns}
    with staff_scope():
        sent = sum(
            CampaignDailyStat.objects.filter(campaign=data_a.campaigns[0]).values_list(
                "sent", flat=True
            )
        )
    row = next(r for r in rows if r["campaign"].pk == data_a.campaigns[0].pk)
    assert row["sent"] == f"{sent:,}"
    assert row["reply_rate"].endswith("%")


# --- Dashboard: period and comparison ---------------------------------------------------------


@pytest.fixture
def controlled_days(org_a):
    """Org A: one campaign, 100 sent a day in the last 7 days, 50 a day in the 7 before."""
    today = timezone.now().date()
    with staff_scope():
        campaign = Campaign.objects.create(
            organization=org_a,
            connection_id=make_shared_connection().pk,
            instantly_id="ctl",
            name="Ctl",
        )
        for offset in range(14):
            current = offset < 7
            CampaignDailyStat.objects.create(
                organization=org_a,
                campaign=campaign,
                date=today - dt.timedelta(days=offset),
                sent=100 if current else 50,
                unique_opened=50 if current else 10,
                unique_replied=4 if current else 1,
                bounced=1 if current else 2,
                interested=2 if current else 0,
                meetings_booked=1,
            )
    return campaign


def test_dashboard_compares_with_the_previous_period(client, alice, controlled_days):
    login(client, alice)
    response = client.get(reverse("portal:dashboard"), {"days": "7"})
    cards = {card.key: card for card in response.context["cards"]}
    assert cards["sent"].value == "700" and cards["sent"].previous == "350"
    assert cards["sent"].change == "+100.0%"
    assert (cards["sent"].trend, cards["sent"].verdict) == ("up", "good")
    assert cards["open_rate"].value == "50.0%" and cards["open_rate"].previous == "20.0%"
    assert cards["reply_rate"].value == "4.0%"
    # Fewer bounces is better: the bounce rate going down is good news.
    assert cards["bounce_rate"].value == "1.0%" and cards["bounce_rate"].previous == "4.0%"
    assert (cards["bounce_rate"].trend, cards["bounce_rate"].verdict) == ("down", "good")
    assert cards["interested"].value == "14" and cards["interested"].change == "new"
    assert cards["meetings_booked"].value == "7" and cards["meetings_booked"].change == "+0.0%"
    assert len(response.context["series"]) == 7
    # The chart and its numbers speak about the same days.
    assert "700 emails sent" in body(response)


def test_dashboard_custom_period(client, alice, controlled_days):
    login(client, alice)
    today = timezone.now().date()
    start = today - dt.timedelta(days=1)
    response = client.get(
        reverse("portal:dashboard"), {"start": start.isoformat(), "end": today.isoformat()}
    )
    period = response.context["period"]
    assert (period.key, period.start, period.end) == ("custom", start, today)
    cards = {card.key: card for card in response.context["cards"]}
    assert cards["sent"].value == "200" and cards["sent"].previous == "200"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-05-10", "end": "2026-05-01"},
        {"start": "2026-05-10"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"days": "all"},
        {"days": "13"},
        {"start": "yesterday", "end": "today"},
    ],
)
def test_dashboard_rejects_a_bad_period_and_falls_back_to_30_days(client, alice, data_a, params):
    login(client, alice)
    response = client.get(reverse("portal:dashboard"), params)
    assert response.status_code == 200
    assert response.context["period"].days == 30
    assert response.context["form"].errors
    assert 'role="alert"' in body(response)


def test_dashboard_for_viewer_and_member_of_other_org_uses_their_own_figures(
    client, victor, bob, controlled_days
):
    login(client, victor)
    cards = {
        c.key: c for c in client.get(reverse("portal:dashboard"), {"days": "7"}).context["cards"]
    }
    assert cards["sent"].value == "700"
    login(client, bob)
    cards = {
        c.key: c for c in client.get(reverse("portal:dashboard"), {"days": "7"}).context["cards"]
    }
    assert cards["sent"].value != "700"


# --- Leads and CSV ----------------------------------------------------------------------------


def test_leads_page_lists_status_interest_and_activity(client, victor, data_a):
    login(client, victor)
    response = client.get(reverse("portal:leads"))
    assert response.context["page"].paginator.count == len(data_a.leads)
    page = body(response)
    assert "Interested" in page and "Active" in page
    assert data_a.leads[0].contact.email in page or response.context["page"].has_next()


@pytest.mark.parametrize("field", ["email", "first_name", "company_name"])
def test_lead_search_matches_email_name_or_company(client, alice, data_a, field):
    target = data_a.leads[5].contact
    term = getattr(target, field)
    login(client, alice)
    leads = list(client.get(reverse("portal:leads"), {"q": term}).context["page"].object_list)
    assert target.pk in {lead.contact_id for lead in leads}
    for lead in leads:
        haystack = " ".join(
            [lead.contact.email, lead.contact.first_name, lead.contact.last_name,
             lead.contact.company_name]
        ).lower()  # fmt: skip
        assert term.lower() in haystack


def test_lead_search_needs_every_word(client, alice, data_a):
    contact = data_a.leads[0].contact
    login(client, alice)
    query = f"{contact.first_name} {contact.company_name.split()[0]}"
    leads = client.get(reverse("portal:leads"), {"q": query}).context["page"].object_list
    assert contact.pk in {lead.contact_id for lead in leads}
    assert not client.get(reverse("portal:leads"), {"q": "zzz-nobody"}).context["page"].object_list


def test_csv_export_has_the_current_filter_and_only_this_organization(
    client, alice, data_a, data_b
):
    login(client, alice)
    campaign = data_a.campaigns[1]
    response = client.get(reverse("portal:leads-export"), {"campaign": str(campaign.pk)})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="leads-acme-')
    rows = list(csv.reader(io.StringIO(body(response))))
    assert rows[0] == [
        "email", "first_name", "last_name", "company", "campaign", "status", "interest_status",
        "score", "last_activity_at",
    ]  # fmt: skip
    expected = {lead.contact.email for lead in data_a.leads if lead.campaign_id == campaign.pk}
    assert {row[0] for row in rows[1:]} == expected
    assert {row[4] for row in rows[1:]} == {campaign.name}

    everything = list(csv.reader(io.StringIO(body(client.get(reverse("portal:leads-export"))))))
    assert len(everything) - 1 == len(data_a.leads)
    b_emails = {c.email for c in data_b.contacts}
    assert not b_emails & {row[0] for row in everything[1:]}


def test_csv_export_filters_by_interest_and_status(client, alice, data_a):
    login(client, alice)

    def export(**params):
        response = client.get(reverse("portal:leads-export"), params)
        return list(csv.reader(io.StringIO(body(response))))[1:]

    interested = export(interest=InterestStatus.INTERESTED)
    assert interested and {row[6] for row in interested} == {"interested"}
    both = export(interest=InterestStatus.INTERESTED, status=LeadStatus.COMPLETED)
    assert both and {(row[5], row[6]) for row in both} == {("completed", "interested")}
    assert len(export(interest="none")) == len(data_a.leads) - 12  # 4 replies in 3 campaigns


def test_csv_export_defuses_spreadsheet_formulas(client, alice, org_a, data_a):
    with staff_scope():
        contact = Contact.objects.create(
            organization=org_a, email="formula@example.com", first_name="=HYPERLINK(1)",
            company_name="+cmd",
        )  # fmt: skip
        Lead.objects.create(organization=org_a, campaign=data_a.campaigns[0], contact=contact)
    login(client, alice)
    rows = list(
        csv.reader(io.StringIO(body(client.get(reverse("portal:leads-export"), {"q": "formula"}))))
    )
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert rows[1][3] == "'+cmd"


def test_csv_export_for_user_without_organization_has_no_data(client, charlie, data_a):
    login(client, charlie)
    response = client.get(reverse("portal:leads-export"))
    assert "text/csv" not in response["Content-Type"]
    assert data_a.leads[0].contact.email not in body(response)


def test_leads_are_paginated(client, alice, data_a):
    login(client, alice)
    first = client.get(reverse("portal:leads")).context["page"]
    # Pages of 20 keep a phone page short: 36 leads are 20 + 16.
    assert first.paginator.count == 36 and len(first.object_list) == 20
    with staff_scope():
        for i in range(20):
            contact = Contact.objects.create(organization=data_a.organization, email=f"p{i}@x.io")
            Lead.objects.create(
                organization=data_a.organization, campaign=data_a.campaigns[0], contact=contact
            )
    third = client.get(reverse("portal:leads"), {"page": 3}).context["page"]
    assert third.number == 3 and len(third.object_list) == 16


def test_leads_sort_by_email_and_link_to_their_page(client, alice, data_a):
    login(client, alice)
    response = client.get(reverse("portal:leads"), {"sort": "email"})
    emails = [lead.contact.email for lead in response.context["page"].object_list]
    assert emails == sorted(emails) and len(emails) == 20
    first = response.context["page"].object_list[0]
    assert reverse("portal:lead", args=[first.pk]) in body(response)


# --- Mailboxes --------------------------------------------------------------------------------


def test_mailboxes_show_health_of_own_and_shared_senders(client, alice, bob, org_a, data_a, data_b):
    today = timezone.now().date()
    with staff_scope():
        shared = EmailAccount.objects.create(
            organization=None, connection_id=data_a.connection.pk, email="pool@agency.io",
            status=MailboxStatus.ACTIVE, daily_limit=40, warmup_score=99,
        )  # fmt: skip
        CampaignSender.objects.create(
            organization=org_a, campaign=data_a.campaigns[0], email_account=shared
        )
        # The pool's whole day (other customers' sends too) and alice's own share of it.
        EmailAccountDailyStat.objects.create(
            organization=None, email_account=shared, date=today, sent=55
        )
        MailboxCampaignDailyStat.objects.create(
            organization=org_a, email_account=shared, campaign=data_a.campaigns[0], date=today,
            sent=40,
        )  # fmt: skip
    login(client, alice)
    response = client.get(reverse("portal:mailboxes"))
    rows = {row["mailbox"].email: row for row in response.context["rows"]}
    assert set(rows) == {m.email for m in data_a.mailboxes} | {"pool@agency.io"}
    pool = rows["pool@agency.io"]
    assert (pool["sent_today"], pool["limit"], pool["usage"]) == (40, 40, 100)
    assert (pool["tone"], pool["reason"]) == ("warn", "Daily limit reached")
    failing = rows[data_a.mailboxes[2].email]
    assert failing["tone"] == "bad"
    assert "SMTP authentication failed" in body(response)
    # Org B does not send from the pool: it does not see it.
    login(client, bob)
    emails = {
        row["mailbox"].email for row in client.get(reverse("portal:mailboxes")).context["rows"]
    }
    assert "pool@agency.io" not in emails
    assert emails == {m.email for m in data_b.mailboxes}


# --- Performance: a bounded number of queries, whatever the amount of data -------------------


@pytest.mark.parametrize(
    "name", ["portal:dashboard", "portal:campaigns", "portal:leads", "portal:mailboxes",
             "portal:leads-export"],
)  # fmt: skip
def test_query_count_does_not_grow_with_data(client, alice, org_a, data_a, name):
    login(client, alice)
    url = reverse(name)
    before = count_queries(client, url)
    # 17: the dashboard's most, with the notification bell, the live panel and the hot leads
    # (issue 13) one each.
    assert before <= 17, before
    build_org_dataset(org_a, campaigns=3, leads_per_campaign=20, replies_per_campaign=5, seed=2)
    assert count_queries(client, url) == before


def test_campaign_detail_query_count_is_bounded(client, alice, data_a):
    login(client, alice)
    queries = count_queries(client, reverse("portal:campaign", args=[data_a.campaigns[0].pk]))
    assert queries <= 19, queries  # 8 are the session, user and tenant scope; 1 the bell


# --- Charts -----------------------------------------------------------------------------------


def test_chart_is_accessible_and_escapes_its_text():
    days = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(10)]
    svg = charts.daily_chart(
        days,
        [charts.Series("<b>Sent</b>", list(range(10)))],
        title='Daily "activity" <script>',
        description="Ten days & counting",
    )
    assert 'role="img"' in svg and "aria-labelledby=" in svg
    assert "<title" in svg and "<desc" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<b>" not in svg and "&amp; counting" in svg
    assert "Nov 10" in svg  # the last day is always labelled
    assert svg.count("<rect") >= 9  # nine non-zero bars (+ tooltips)


def test_chart_without_data_says_so():
    days = [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
    svg = charts.daily_chart(days, [charts.Series("Sent", [0, 0])], title="Empty")
    assert "No activity in this period" in svg


@pytest.mark.parametrize(
    ("value", "expected"), [(0, (1.0, 0.25)), (7, (8, 2)), (95, (100, 25)), (1234, (2000, 500))]
)
def test_axis_maximum_is_a_round_number(value, expected):
    assert charts.nice_ceiling(value) == expected


def test_untracked_opens_and_clicks_say_so_instead_of_zero(client, alice, data_a):
    campaign = data_a.campaigns[0]
    with staff_scope():
        Campaign.objects.filter(pk=campaign.pk).update(open_tracking=False, link_tracking=False)
    login(client, alice)
    rows = client.get(reverse("portal:campaigns")).context["rows"]
    row = next(r for r in rows if r["campaign"].pk == campaign.pk)
    assert (row["open_rate"], row["click_rate"]) == ("Off", "Off")
    cards = client.get(reverse("portal:campaign", args=[campaign.pk])).context["cards"]
    values = {card.key: card.value for card in cards}
    assert values["open_rate"] == values["click_rate"] == "Not tracked"
    assert values["reply_rate"].endswith("%")


def test_campaign_detail_shows_not_sending_status_and_instantly_interest_totals(
    client, alice, data_a
):
    campaign = data_a.campaigns[0]
    with staff_scope():
        Campaign.objects.unscoped().filter(pk=campaign.pk).update(
            not_sending_status=NotSendingStatus.DAILY_LIMIT,
            analytics_overview={"total_interested": 7, "total_meeting_booked": 3},
        )
    login(client, alice)
    response = client.get(reverse("portal:campaign", args=[campaign.pk]))
    page = body(response)
    assert "Not sending" in page and "Reached its daily sending limit" in page
    totals = {t.label: t for t in response.context["interest_totals"]}
    assert (totals["Interested"].instantly, totals["Meetings booked"].instantly) == (7, 3)
    assert totals["Closed (won)"].instantly is None  # not in the overview: "not synced yet"
    with staff_scope():
        recorded = sum(
            CampaignDailyStat.objects.unscoped()
            .filter(campaign=campaign)
            .values_list("interested", flat=True)
        )
    assert totals["Interested"].recorded == recorded
    assert "Interest totals" in page and "not synced yet" in page
