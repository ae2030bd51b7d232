"""A mailbox shared by two customers shows each customer only the sends of their own campaigns
(issue 10, finding 3); staff still see the whole mailbox.

The agency's pool mailbox sends for alice's campaign (2 sent, 1 bounced) and for bob's
(3 sent, 1 replied). Deliveries go through webhook processing, as in production.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import staff_scope, tenant_scope
from campaigns.models import Campaign, EmailAccount, EmailAccountDailyStat
from instantly.webhooks import queue
from instantly.webhooks.ingest import store_delivery
from testkit import PERSONAS, persona_client

pytestmark = pytest.mark.django_db

POOL = "pool@agency-mail.example"
WHOLE = {"sent": 5, "bounced": 1, "replied": 1}
EXPECTED = {  # what each persona sees of the pool
    "alice": {"sent": 2, "bounced": 1, "replied": 0},
    "victor": {"sent": 2, "bounced": 1, "replied": 0},
    "bob": {"sent": 3, "bounced": 0, "replied": 1},
    "olga": WHOLE,
    "adam": WHOLE,
}


def delivery(event_type: str, campaign: Campaign, lead: str, at: dt.datetime) -> dict:
    return {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "event_type": event_type,
        "workspace": "ws-shared",
        "campaign_id": campaign.instantly_id,
        "campaign_name": campaign.name,
        "lead_email": lead,
        "email": lead,
        "email_account": POOL,
        "step": 1,
        "variant": 1,
        "email_id": f"{event_type}-{campaign.instantly_id}-{lead}",
        "email_subject": "Quick question",
        "email_text": "Hello",
    }


@pytest.fixture
def today():
    return timezone.now().date()


@pytest.fixture
def pool(tenant_rows, shared_connection, today):
    """The pool after alice's and bob's campaigns sent, bounced and got replies through it."""
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    a, b = tenant_rows["a"]["campaign"], tenant_rows["b"]["campaign"]
    payloads = [
        delivery("email_sent", a, "ann@prospect.example", at),
        delivery("email_sent", a, "abe@prospect.example", at),
        delivery("email_bounced", a, "abe@prospect.example", at + dt.timedelta(seconds=1)),
        delivery("email_sent", b, "bea@prospect.example", at),
        delivery("email_sent", b, "ben@prospect.example", at),
        delivery("email_sent", b, "bo@prospect.example", at),
        delivery("reply_received", b, "bea@prospect.example", at + dt.timedelta(seconds=2)),
    ]
    for payload in payloads:
        store_delivery(shared_connection, payload, received_at=timezone.now())
    queue.drain(now=timezone.now())
    with staff_scope():
        mailbox = EmailAccount.objects.get(email=POOL)
        day = EmailAccountDailyStat.objects.get(email_account=mailbox, date=today)
    assert mailbox.organization_id is None
    assert {k: getattr(day, k) for k in WHOLE} == WHOLE  # the mailbox-wide figures
    return mailbox


@pytest.mark.parametrize("persona", PERSONAS)
def test_mailbox_stats_api_shows_each_persona_its_own_sends(request, pool, today, persona):
    client = persona_client(request, persona)
    response = client.get(
        f"/api/v1/email-accounts/{pool.pk}/stats/",
        {"start": (today - dt.timedelta(days=6)).isoformat(), "end": today.isoformat()},
    )
    if persona in ("anonymous", "revoked"):
        assert response.status_code == 401
        return
    if persona == "charlie":
        assert response.status_code in (403, 404)
        return
    assert response.status_code == 200, response.content
    totals = response.json()["totals"]
    assert {k: totals[k] for k in WHOLE} == EXPECTED[persona]
    today_row = response.json()["daily"][-1]
    assert today_row["sent"] == EXPECTED[persona]["sent"]


@pytest.mark.parametrize("persona", ["alice", "victor", "bob"])
def test_mailboxes_page_shows_each_customer_its_own_sends(client, request, pool, persona):
    client.force_login(request.getfixturevalue(persona))
    rows = {r["mailbox"].email: r for r in client.get(reverse("portal:mailboxes")).context["rows"]}
    assert rows[POOL]["sent_today"] == EXPECTED[persona]["sent"]
    sent, bounced = EXPECTED[persona]["sent"], EXPECTED[persona]["bounced"]
    assert rows[POOL]["bounce_rate"] == (f"{bounced / sent * 100:.1f}%" if bounced else "0.0%")


def test_staff_viewing_a_customer_see_the_whole_mailbox(client, olga, org_a, pool):
    client.force_login(olga)
    client.post(reverse("switch_organization"), {"organization_id": str(org_a.pk)})
    rows = {r["mailbox"].email: r for r in client.get(reverse("portal:mailboxes")).context["rows"]}
    assert rows[POOL]["sent_today"] == WHOLE["sent"]


def test_the_database_hides_the_mailbox_wide_figures_from_customers(pool, org_a):
    with tenant_scope(org_a.pk):
        assert not EmailAccountDailyStat.objects.unscoped().filter(email_account=pool).exists()
