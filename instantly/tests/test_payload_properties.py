"""Property: whatever Instantly sends, nothing answers 500 and every page still renders
(issue 10). Hypothesis throws arbitrary JSON values, strings (lone surrogates and NUL included)
and timestamps (extreme offsets, epochs, years 1 and 9999) at the receiver, processes what was
stored, then opens the pages and API lists that show those rows, as a customer and as staff.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tenancy import staff_scope
from instantly.models import ProviderConnection, WebhookEvent
from instantly.webhooks import queue
from instantly.webhooks.auth import SECRET_HEADER
from testkit import persona_client

pytestmark = pytest.mark.django_db

URL = "/webhooks/instantly/webhook"
HEADER = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")
EVENT_TYPES = [
    "email_sent", "email_opened", "email_link_clicked", "reply_received", "auto_reply_received",
    "email_bounced", "lead_unsubscribed", "lead_interested", "lead_meeting_booked",
    "lead_not_interested", "campaign_completed", "account_error", "custom_label_any",
]  # fmt: skip
PAGES = ["/", "/leads/", "/leads/export.csv", "/inbox/", "/mailboxes/", "/campaigns/"]
CUSTOMER_API = ["/api/v1/leads/", "/api/v1/threads/", "/api/v1/messages/", "/api/v1/contacts/"]
STAFF_API = ["/api/v1/webhook-events/", "/api/v1/email-accounts/", "/api/v1/campaigns/"]
ADMIN = [
    "admin:campaigns_contact_changelist",
    "admin:campaigns_lead_changelist",
    "admin:campaigns_activity_changelist",
    "admin:campaigns_emailaccount_changelist",
    "admin:instantly_webhookevent_changelist",
    "admin:instantly_alert_changelist",
    "admin:messaging_message_changelist",
    "admin:messaging_thread_changelist",
]

characters = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.sampled_from(["\x00", "=", "@", "\n", "😀"]),
)
texts = st.text(alphabet=characters, max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
timestamps = st.one_of(
    st.datetimes(timezones=offsets).map(dt.datetime.isoformat),
    st.datetimes().map(dt.datetime.isoformat),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "", "now"]),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    json_values,
)
emails = st.one_of(
    st.emails().map(str.lower), texts, st.sampled_from(["maya@bluepeak.example", "A@B.example"])
)


@st.composite
def deliveries(draw, campaign_ids):
    payload = {
        "event_type": draw(st.one_of(st.sampled_from(EVENT_TYPES), texts)),
        "timestamp": draw(timestamps),
        "campaign_id": draw(st.one_of(st.sampled_from(campaign_ids), texts)),
        "campaign_name": draw(texts),
        "lead_email": draw(emails),
        "email": draw(emails),
        "email_account": draw(emails),
        "step": draw(json_values),
        "variant": draw(json_values),
        "email_id": draw(texts),
        "email_subject": draw(texts),
        "email_text": draw(texts),
        "email_html": draw(texts),
        "firstName": draw(texts),
        "lastName": draw(texts),
        "companyName": draw(texts),
        "unibox_url": draw(texts),
    }
    for key in draw(st.lists(st.sampled_from(sorted(payload)), max_size=4, unique=True)):
        del payload[key]
    payload.update(draw(st.dictionaries(texts, json_values, max_size=3)))
    return payload


def test_arbitrary_deliveries_never_answer_500_nor_break_a_page(
    request, client, tenant_rows, shared_connection, alice, adam
):
    with staff_scope():
        conn = ProviderConnection.objects.get(pk=shared_connection.pk)
        secret = conn.set_new_webhook_secret()
        conn.save()
    campaign_ids = [rows["campaign"].instantly_id for rows in tenant_rows.values()]
    customer, staff = persona_client(request, "alice"), persona_client(request, "adam")

    @given(payloads=st.lists(deliveries(campaign_ids), min_size=1, max_size=4))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(payloads):
        for payload in payloads:
            body = json.dumps(payload)  # lone surrogates travel as \\udXXX escapes
            response = client.post(
                URL, data=body, content_type="application/json", **{HEADER: secret}
            )
            assert response.status_code == 200, (payload, response.content[:300])
        queue.drain(now=timezone.now())
        with staff_scope():
            assert not WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSING).exists()
        client.force_login(alice)
        for url in PAGES:
            assert client.get(url).status_code == 200, url
        for url in CUSTOMER_API:
            assert customer.get(url).status_code == 200, url
        for url in STAFF_API:
            assert staff.get(url).status_code == 200, url
        client.force_login(adam)
        for name in ADMIN:
            assert client.get(reverse(name)).status_code == 200, name
        client.logout()

    run()
