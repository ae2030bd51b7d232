"""Customer actions carried out by Instantly: setting interest is pushed to
`POST /api/v2/leads/update-interest-status`, recorded as the newest state so a stale webhook
does not undo it, refused for viewers and absent for other organizations; the sandbox accepts
both replies and interest changes."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from django.conf import settings

from accounts.tenancy import staff_scope
from campaigns.models import Activity, InterestStatus, Lead, LeadLabel
from instantly.sandbox.data import SandboxWorkspace
from instantly.sandbox.server import DEFAULT_API_KEY, SandboxApp, SandboxServer
from instantly.webhooks import queue
from instantly.webhooks.ingest import store_delivery
from testkit import build_dataset, persona_client

pytestmark = pytest.mark.django_db

INTEREST_URL = f"{settings.INSTANTLY_API_BASE_URL.rstrip('/')}/api/v2/leads/update-interest-status"


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


@pytest.fixture
def instantly():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def fresh(lead) -> Lead:
    with staff_scope():
        return Lead.objects.unscoped().get(pk=lead.pk)


def test_interest_is_pushed_then_a_stale_webhook_does_not_revert_it(
    request, data, instantly, shared_connection
):
    instantly.add(responses.POST, INTEREST_URL, json={"message": "job submitted"}, status=202)
    lead = data.leads["a"][4]
    response = persona_client(request, "alice").post(
        f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "meeting_booked"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["interest_status"] == "meeting_booked"
    pushed = json.loads(instantly.calls[0].request.body)
    assert pushed == {
        "lead_email": "lead4-a@prospect.io",
        "interest_value": 2,
        "campaign_id": "cmp-a-0",
    }
    with staff_scope():
        assert Activity.objects.unscoped().get(lead=lead).data["source"] == "salesbrain"

    # Instantly (or a retry) delivers an older "not interested" afterwards.
    stale = {
        "timestamp": "2026-11-01T09:00:00.000Z",
        "event_type": "lead_not_interested",
        "workspace": "ws-shared",
        "campaign_id": "cmp-a-0",
        "campaign_name": "Campaign A0",
        "lead_email": "lead4-a@prospect.io",
        "email": "lead4-a@prospect.io",
    }
    store_delivery(shared_connection, stale)
    queue.drain()
    with staff_scope():  # the webhook did reach this lead (its activity is recorded) ...
        assert Activity.objects.unscoped().filter(lead=lead).count() == 2
    assert fresh(lead).interest_status == InterestStatus.MEETING_BOOKED  # ... and changed nothing


def test_a_refused_push_records_nothing_and_says_why(request, data, instantly):
    instantly.add(responses.POST, INTEREST_URL, json={"message": "Invalid key"}, status=401)
    lead = data.leads["a"][4]
    response = persona_client(request, "alice").post(
        f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "interested"}
    )
    assert response.status_code == 502
    assert response.json()["error"]["message"].startswith("Authorisation")
    assert fresh(lead).interest_status == ""


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("victor", 403), ("bob", 404), ("charlie", 403), ("anonymous", 401), ("revoked", 401)],
)
def test_who_may_not_set_interest(request, data, instantly, persona, expected):
    lead = data.leads["a"][4]
    response = persona_client(request, persona).post(
        f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "interested"}
    )
    assert response.status_code == expected
    assert not instantly.calls and fresh(lead).interest_status == ""


def test_an_unknown_interest_is_a_validation_error(request, data, instantly):
    response = persona_client(request, "alice").post(
        f"/api/v1/leads/{data.leads['a'][4].pk}/interest/", {"interest_status": "ecstatic"}
    )
    assert response.status_code == 400 and not instantly.calls


def test_the_sandbox_accepts_replies_and_interest_changes():
    workspace = SandboxWorkspace(seed=7, campaigns=1, leads_per_campaign=20)
    with SandboxServer(SandboxApp(workspace)) as server:
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        base = server.base_url + "/api/v2"
        received = requests.get(
            f"{base}/emails", params={"email_type": "received"}, headers=headers, timeout=5
        ).json()["items"][0]
        sent = requests.post(
            f"{base}/emails/reply",
            json={
                "reply_to_uuid": received["id"],
                "eaccount": received["eaccount"],
                "subject": "Re: hello",
                "body": {"text": "Thanks"},
            },
            headers=headers,
            timeout=5,
        )
        assert sent.status_code == 200 and sent.json()["ue_type"] == 3
        changed = requests.post(
            f"{base}/leads/update-interest-status",
            json={"lead_email": received["lead"], "interest_value": 2},
            headers=headers,
            timeout=5,
        )
        assert changed.status_code == 200
        assert workspace.lead(received["lead_id"])["lt_interest_status"] == 2
        unknown = requests.post(
            f"{base}/leads/update-interest-status",
            json={"lead_email": "nobody@example.com", "interest_value": 1},
            headers=headers,
            timeout=5,
        )
        assert unknown.status_code == 404


@pytest.mark.parametrize("persona", ["olga", "adam"])
def test_staff_set_a_customers_lead_interest(request, data, instantly, persona):
    """Agency staff (sb_operator, sb_admin) may set interest on any organization's lead."""
    instantly.add(responses.POST, INTEREST_URL, json={"message": "job submitted"}, status=202)
    lead = data.leads["b"][0]
    response = persona_client(request, persona).post(
        f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "interested"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["interest_status"] == "interested"
    assert json.loads(instantly.calls[0].request.body)["interest_value"] == 1
    assert fresh(lead).interest_status == InterestStatus.INTERESTED


@pytest.mark.parametrize("persona", ["olga", "adam"])
def test_staff_get_the_same_validation_and_refusal_answers(request, data, instantly, persona):
    instantly.add(responses.POST, INTEREST_URL, json={"message": "Invalid key"}, status=401)
    lead = data.leads["a"][4]
    client = persona_client(request, persona)
    unknown = client.post(f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "ecstatic"})
    assert unknown.status_code == 400 and not instantly.calls
    refused = client.post(f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "lost"})
    assert refused.status_code == 502
    assert refused.json()["error"]["message"].startswith("Authorisation")
    assert fresh(lead).interest_status == ""


def test_a_synced_custom_label_is_pushed_with_its_interest_value(request, data, instantly):
    """GET /lead-labels gives each label's `interest_status`: the value to push for it."""
    instantly.add(responses.POST, INTEREST_URL, json={"message": "job submitted"}, status=202)
    lead = data.leads["a"][4]
    with staff_scope():
        campaign = Lead.objects.unscoped().select_related("campaign").get(pk=lead.pk).campaign
        LeadLabel.objects.unscoped().create(
            connection_id=campaign.connection_id,
            organization_id=campaign.organization_id,
            instantly_id="019d9c5f-9689-7a80-835a-ba07d3878ce7",
            label="Hot Lead",
            meaning="positive",
            interest_value=17,
        )
    response = persona_client(request, "alice").post(
        f"/api/v1/leads/{lead.pk}/interest/", {"interest_status": "label:Hot Lead"}
    )
    assert response.status_code == 200, response.content
    assert json.loads(instantly.calls[0].request.body)["interest_value"] == 17
    assert (fresh(lead).interest_status, fresh(lead).interest_label) == ("custom", "Hot Lead")
