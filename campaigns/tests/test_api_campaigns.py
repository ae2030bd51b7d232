"""Campaign, mailbox, contact, lead and statistics endpoints: every persona gets the right status
and only the rows it may see; filters, ordering, pagination and figures on realistic data."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.tenancy import staff_scope
from campaigns import stats
from campaigns.models import Campaign, CampaignDailyStat
from testkit import (
    DAY,
    PERSONAS,
    build_dataset,
    expected_status,
    persona_client,
    results,
)

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/campaigns/", "/api/v1/email-accounts/", "/api/v1/contacts/", "/api/v1/leads/"]


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


def visible_orgs(persona, org_a, org_b) -> set:
    return {
        "alice": {str(org_a.pk)},
        "victor": {str(org_a.pk)},
        "bob": {str(org_b.pk)},
        "olga": {str(org_a.pk), str(org_b.pk), None},
        "adam": {str(org_a.pk), str(org_b.pk), None},
    }[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_answer_each_persona_with_only_its_rows(request, data, org_a, org_b, persona):
    client = persona_client(request, persona)
    for url in LISTS:
        response = client.get(url, {"page_size": 200})
        assert response.status_code == expected_status(persona), (url, response.content)
        if response.status_code != 200:
            assert set(response.json()) == {"error"}
            continue
        orgs = {row["organization"] for row in results(response)}
        allowed = visible_orgs(persona, org_a, org_b)
        if url == "/api/v1/email-accounts/" and persona in ("alice", "victor"):
            allowed = allowed | {None}  # the shared mailbox A's campaigns send from
        assert orgs and orgs <= allowed, url
        if persona in ("olga", "adam"):
            assert None in orgs, url  # staff see the shared workspace too


@pytest.mark.parametrize("persona", PERSONAS)
def test_campaign_detail_stats_and_messages_per_persona(request, data, persona):
    client = persona_client(request, persona)
    own_a = data.campaigns["a"][0].pk
    for suffix in ("", "stats/", "messages/"):
        response = client.get(f"/api/v1/campaigns/{own_a}/{suffix}")
        expected = expected_status(persona)
        if persona == "bob":
            expected = 404  # another organization's campaign: absent, not forbidden
        assert response.status_code == expected, (suffix, response.content)


@pytest.mark.parametrize("persona", ["alice", "victor", "bob"])
def test_shared_campaign_is_invisible_to_customers(request, data, persona):
    client = persona_client(request, persona)
    shared = data.campaigns["shared"][0].pk
    assert client.get(f"/api/v1/campaigns/{shared}/").status_code == 404
    assert client.get(f"/api/v1/campaigns/{shared}/stats/").status_code == 404


def test_bob_gets_404_for_every_detail_of_org_a(request, data):
    client = persona_client(request, "bob")
    urls = [
        f"/api/v1/campaigns/{data.campaigns['a'][0].pk}/",
        f"/api/v1/email-accounts/{data.mailboxes['a'][0].pk}/",
        f"/api/v1/email-accounts/{data.mailboxes['a'][0].pk}/stats/",
        f"/api/v1/contacts/{data.contacts['a'][0].pk}/",
        f"/api/v1/leads/{data.leads['a'][0].pk}/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_campaign_list_carries_all_time_totals_from_stats(request, data):
    response = persona_client(request, "alice").get("/api/v1/campaigns/")
    rows = {row["id"]: row for row in results(response)}
    campaign = data.campaigns["a"][0]
    expected = stats.summarize(CampaignDailyStat.objects.unscoped().none()).as_dict()
    assert set(rows[str(campaign.pk)]["totals"]) == set(expected)
    assert rows[str(campaign.pk)]["totals"]["sent"] == 1000
    assert rows[str(campaign.pk)]["totals"]["open_rate"] == 0.4


def test_campaign_stats_cover_the_period_day_by_day(request, data):
    campaign = data.campaigns["a"][0]
    start, end = DAY - dt.timedelta(days=4), DAY + dt.timedelta(days=2)
    response = persona_client(request, "alice").get(
        f"/api/v1/campaigns/{campaign.pk}/stats/", {"start": start, "end": end}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": str(start), "end": str(end)}
    assert [d["sent"] for d in body["daily"]] == [100] * 5 + [0, 0]
    assert body["totals"]["sent"] == 500
    assert body["previous"]["sent"] == 500  # the 7 days before hold the other 5 days
    assert body["previous_period"] == {
        "start": str(start - dt.timedelta(days=7)),
        "end": str(start - dt.timedelta(days=1)),
    }


@pytest.mark.parametrize(
    "params,field",
    [
        ({"start": "2026-11-10", "end": "2026-11-01"}, "end"),
        ({"start": "1990-01-01", "end": "1990-01-02"}, "start"),
        ({"days": 0}, "days"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "start"),
        ({"end": "not-a-date"}, "end"),
    ],
)
def test_bad_periods_are_400_with_field_details(request, data, params, field):
    campaign = data.campaigns["a"][0]
    response = persona_client(request, "alice").get(
        f"/api/v1/campaigns/{campaign.pk}/stats/", params
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["details"]


def test_organization_stats_sum_only_the_callers_organization(request, data, org_a):
    response = persona_client(request, "alice").get(
        "/api/v1/stats/", {"start": DAY - dt.timedelta(days=9), "end": DAY}
    )
    body = response.json()
    assert body["organization"] == str(org_a.pk)
    assert body["totals"]["sent"] == 3 * 1000  # three campaigns of A, not B's two
    assert body["campaigns"] == {"total": 3, "active": 1}
    assert len(body["daily"]) == 10


def test_staff_organization_stats_span_every_organization_or_one(request, data, org_b):
    client = persona_client(request, "olga")
    period = {"start": DAY - dt.timedelta(days=9), "end": DAY}
    everything = client.get("/api/v1/stats/", period).json()
    assert everything["organization"] is None
    assert everything["totals"]["sent"] == 6 * 1000
    only_b = client.get("/api/v1/stats/", {**period, "organization": org_b.pk}).json()
    assert only_b["totals"]["sent"] == 2 * 1000
    assert only_b["campaigns"]["total"] == 2


def test_customer_cannot_read_another_organization_through_the_stats_filter(request, data, org_b):
    response = persona_client(request, "alice").get("/api/v1/stats/", {"organization": org_b.pk})
    assert response.status_code == 200
    assert response.json()["totals"]["sent"] == 0
    assert response.json()["campaigns"]["total"] == 0


@pytest.mark.parametrize(
    "params,names",
    [
        ({"status": "active"}, {"Campaign A0"}),
        ({"status": ["paused", "completed"]}, {"Campaign A1", "Campaign A2"}),
        ({"name": "a1"}, {"Campaign A1"}),
        ({"organization": "00000000-0000-0000-0000-000000000000"}, set()),
    ],
)
def test_campaign_filters(request, data, params, names):
    response = persona_client(request, "alice").get("/api/v1/campaigns/", params)
    assert {row["name"] for row in results(response)} == names


def test_campaign_filter_by_another_organizations_id_finds_nothing(request, data, org_b):
    response = persona_client(request, "alice").get(
        "/api/v1/campaigns/", {"organization": org_b.pk}
    )
    assert response.status_code == 200
    assert results(response) == []


def test_staff_filter_unassigned_campaigns(request, data):
    response = persona_client(request, "olga").get("/api/v1/campaigns/", {"unassigned": "true"})
    assert [row["name"] for row in results(response)] == ["Campaign SHARED0"]


def test_invalid_filter_value_is_400(request, data):
    response = persona_client(request, "alice").get("/api/v1/campaigns/", {"status": "bogus"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def test_campaign_ordering(request, data):
    response = persona_client(request, "alice").get("/api/v1/campaigns/", {"ordering": "-name"})
    assert [row["name"] for row in results(response)] == [
        "Campaign A2",
        "Campaign A1",
        "Campaign A0",
    ]


def test_lead_pagination_walks_every_row_once(request, data):
    client = persona_client(request, "alice")
    seen, url, params = [], "/api/v1/leads/", {"page_size": 7}
    while url:
        body = client.get(url, params).json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None
        assert body["count"] == 30
    assert sorted(seen) == sorted(lead.pk for lead in data.leads["a"])


def test_page_size_is_capped_and_a_page_past_the_end_is_404(request, data):
    client = persona_client(request, "alice")
    assert len(results(client.get("/api/v1/leads/", {"page_size": 10_000}))) == 30
    response = client.get("/api/v1/leads/", {"page": 99})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "params,count",
    [
        ({"interest_status": "interested"}, 3),
        ({"has_interest": "true"}, 9),
        ({"has_interest": "false"}, 21),
        ({"status": "completed"}, 15),
        ({"last_activity_after": "2026-11-09T00:00:00Z"}, 6),
        ({"last_activity_before": "2026-11-02T00:00:00Z"}, 3),
    ],
)
def test_lead_filters(request, data, params, count):
    response = persona_client(request, "alice").get("/api/v1/leads/", params)
    assert response.json()["count"] == count


def test_lead_filter_by_campaign(request, data):
    campaign = data.campaigns["a"][1]
    response = persona_client(request, "alice").get("/api/v1/leads/", {"campaign": campaign.pk})
    assert {row["campaign"] for row in results(response)} == {str(campaign.pk)}
    assert response.json()["count"] == 10


@pytest.mark.parametrize(
    "params,count",
    [({"q": "lead1"}, 1), ({"q": "prospect 0"}, 4), ({"company_name": "Prospect 2"}, 3)],
)
def test_contact_filters(request, data, params, count):
    response = persona_client(request, "alice").get("/api/v1/contacts/", params)
    assert response.json()["count"] == count


def test_out_of_range_datetime_filter_is_400_not_500(request, data):
    response = persona_client(request, "alice").get(
        "/api/v1/leads/", {"last_activity_after": "0001-01-01T00:00:00+05:00"}
    )
    assert response.status_code == 400


def test_mailboxes_include_the_shared_pool_for_the_organization_using_it(request, data):
    alice = {row["email"] for row in results(persona_client(request, "alice").get(LISTS[1]))}
    bob = {row["email"] for row in results(persona_client(request, "bob").get(LISTS[1]))}
    assert alice == {"sender-a@mail.io", "pool@agency-mail.io"}
    assert bob == {"sender-b@mail.io"}


def test_mailbox_stats_and_filters(request, data):
    client = persona_client(request, "alice")
    box = data.mailboxes["a"][0]
    body = client.get(f"/api/v1/email-accounts/{box.pk}/stats/", {"days": 3, "end": DAY}).json()
    assert [d["sent"] for d in body["daily"]] == [0, 0, 30]
    assert body["totals"] == {
        "sent": 30, "bounced": 1, "replied": 2, "bounce_rate": round(1 / 30, 4),
        "reply_rate": round(2 / 30, 4),
    }  # fmt: skip
    assert body["daily_limit"] == 50
    campaign = data.campaigns["a"][0]
    rows = results(client.get(LISTS[1], {"campaign": campaign.pk, "email": "pool"}))
    assert [row["email"] for row in rows] == ["pool@agency-mail.io"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_mirrored_data_is_read_only(request, data, method):
    client = persona_client(request, "alice")
    campaign = data.campaigns["a"][0]
    url = "/api/v1/campaigns/" if method == "post" else f"/api/v1/campaigns/{campaign.pk}/"
    response = getattr(client, method)(url, {"name": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_session_login_works_like_a_token(client, data, alice, org_a):
    client.force_login(alice)
    response = client.get("/api/v1/campaigns/")
    assert response.status_code == 200
    assert {row["organization"] for row in response.json()["results"]} == {str(org_a.pk)}


@pytest.mark.parametrize(
    "persona,status",
    [("olga", 200), ("adam", 200), ("alice", 403), ("victor", 403), ("bob", 403),
     ("charlie", 403), ("anonymous", 401)],
)  # fmt: skip
def test_staff_assign_a_shared_campaign_to_a_customer(request, data, org_a, persona, status):
    shared = data.campaigns["shared"][0]
    response = persona_client(request, persona).post(
        f"/api/v1/campaigns/{shared.pk}/assign/", {"organization": str(org_a.pk)}, format="json"
    )
    assert response.status_code == status, response.content
    alice = persona_client(request, "alice")
    visible = alice.get(f"/api/v1/campaigns/{shared.pk}/").status_code
    assert visible == (200 if status == 200 else 404)
    if status == 200:
        assert response.json()["changed"] is True
        assert response.json()["moved"]["messages"] == 4  # 2 contacts, each replied
        assert alice.get(f"/api/v1/campaigns/{shared.pk}/messages/").json()["count"] == 4


def test_assign_needs_a_real_organization(request, data):
    shared = data.campaigns["shared"][0]
    response = persona_client(request, "olga").post(
        f"/api/v1/campaigns/{shared.pk}/assign/",
        {"organization": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )
    assert response.status_code == 400
    assert "organization" in response.json()["error"]["details"]


def test_campaign_detail_carries_not_sending_status_and_instantly_overview(request, data):
    campaign = data.campaigns["a"][0]
    with staff_scope():
        Campaign.objects.unscoped().filter(pk=campaign.pk).update(
            not_sending_status="outside_schedule", analytics_overview={"total_interested": 4}
        )
    body = persona_client(request, "alice").get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert body["not_sending_status"] == "outside_schedule"
    assert body["analytics_overview"] == {"total_interested": 4}
