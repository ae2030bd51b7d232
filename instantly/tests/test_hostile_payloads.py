"""Deliveries that once broke pages or the receiver (issue 10, findings 1, 2 and 8).

1. A timestamp PostgreSQL stores but Python cannot read back (year 1 with +14:00, year 9999 with
   -14:00) or simply outside 2000..now+1 day: the raw value stays in the payload, columns get
   the receipt time (or stay empty), the event is processed, and every page still renders.
2. A lone surrogate (`"\\ud800"`, half an emoji) is stored, as U+FFFD, and answered 200.
8. A database error on the receiver's path, even a raw psycopg one, answers 503.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import psycopg
import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.urls import reverse

from accounts.tenancy import staff_scope
from campaigns.models import Contact, Lead
from instantly.models import ProviderConnection, WebhookEvent
from instantly.webhooks import queue
from instantly.webhooks.auth import SECRET_HEADER
from instantly.webhooks.events import parse_timestamp
from messaging.models import Message
from testkit import persona_client

pytestmark = pytest.mark.django_db

URL = "/webhooks/instantly/webhook"
HEADER = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")
UNREADABLE = [
    "0001-01-01T00:00:00+14:00",  # year 0 (1 BC) in UTC
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "1999-12-31T23:59:59Z",
    "2199-01-01T00:00:00Z",
    -62135596800,  # epoch seconds of year 1
    253402300799000,  # epoch milliseconds of 9999-12-31
]
PAGES = ["/leads/", "/leads/export.csv", "/inbox/", "/"]
API = ["/api/v1/leads/", "/api/v1/threads/", "/api/v1/messages/", "/api/v1/contacts/"]
STAFF_API = ["/api/v1/webhook-events/"]
ADMIN = [
    "admin:campaigns_contact_changelist",
    "admin:campaigns_lead_changelist",
    "admin:campaigns_activity_changelist",
    "admin:instantly_webhookevent_changelist",
    "admin:messaging_message_changelist",
    "admin:messaging_thread_changelist",
]


def delivery(campaign_id: str, **changes) -> dict:
    payload = {
        "timestamp": "2026-03-02T09:15:00.000Z",
        "event_type": "email_sent",
        "workspace": "ws-shared",
        "campaign_id": campaign_id,
        "campaign_name": "Campaign a",
        "lead_email": "maya@bluepeak.example",
        "email": "maya@bluepeak.example",
        "email_account": "sam@salesbrain-mail.example",
        "step": 1,
        "variant": 1,
        "email_id": "e-1",
        "email_subject": "Quick question",
        "email_text": "Hello",
    }
    payload.update(changes)
    return payload


@pytest.fixture
def secret(shared_connection):
    with staff_scope():
        conn = ProviderConnection.objects.get(pk=shared_connection.pk)
        value = conn.set_new_webhook_secret()
        conn.save()
    return value


def post(client, payload, secret):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(URL, data=body, content_type="application/json", **{HEADER: secret})


def assert_every_page_renders(request, client, alice, adam):
    client.force_login(alice)
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    for url in API:
        response = persona_client(request, "alice").get(url)
        assert response.status_code == 200, (url, response.content[:300])
    client.force_login(adam)
    for name in ADMIN:
        assert client.get(reverse(name)).status_code == 200, name
    for url in STAFF_API:
        assert persona_client(request, "adam").get(url).status_code == 200, url


@pytest.mark.parametrize("value", UNREADABLE)
def test_timestamps_outside_a_sane_range_are_not_parsed(value):
    assert parse_timestamp(value) is None


def test_timestamps_near_now_are_parsed():
    assert parse_timestamp("2026-03-02T09:15:00Z") == dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    assert parse_timestamp("2000-01-01T00:00:00+00:00") is not None


@pytest.mark.parametrize("value", UNREADABLE)
def test_an_unreadable_timestamp_is_processed_with_the_receipt_time_and_breaks_no_page(
    request, client, tenant_rows, secret, alice, adam, value
):
    campaign = tenant_rows["a"]["campaign"]  # org A's campaign in the shared workspace
    response = post(client, delivery(campaign.instantly_id, timestamp=value), secret)
    assert response.status_code == 200, response.content
    queue.drain()
    with staff_scope():
        event = WebhookEvent.objects.get(pk=response.json()["id"])
        assert event.status == WebhookEvent.Status.PROCESSED, event.last_error
        assert event.payload["timestamp"] == value  # the raw value is kept
        assert event.occurred_at is None
        contact = Contact.objects.get(email="maya@bluepeak.example")
        assert contact.last_activity_at == event.received_at
        lead = Lead.objects.get(contact=contact)
        assert lead.last_activity_at == event.received_at
        assert Message.objects.get(source_event_id=event.id).sent_at == event.received_at
    assert_every_page_renders(request, client, alice, adam)


def test_a_lone_surrogate_is_stored_as_a_replacement_character(client, secret):
    body = '{"event_type": "email_opened", "s": "\\ud800", "lead_email": "a\\udfffb@x.example"}'
    response = post(client, body, secret)
    assert response.status_code == 200, response.content
    with staff_scope():
        event = WebhookEvent.objects.get(pk=response.json()["id"])
    assert event.payload["s"] == "\ufffd"
    assert event.payload["lead_email"] == "a\ufffdb@x.example"
    # The same delivery again is recognised as a duplicate: the key is stable.
    assert post(client, body, secret).json()["duplicate"] is True


def test_a_surrogate_pair_is_one_emoji_and_kept(client, secret):
    body = '{"event_type": "email_opened", "s": "\\ud83d\\ude00"}'
    response = post(client, body, secret)
    assert response.status_code == 200
    with staff_scope():
        assert WebhookEvent.objects.get(pk=response.json()["id"]).payload["s"] == "😀"


@pytest.mark.django_db(transaction=True)
def test_a_raw_driver_error_on_insert_answers_503(client, secret):
    """Another session holds the table; the receiver's insert hits its lock timeout, a raw
    psycopg error raised by the bulk-write engine's own cursor."""
    params = settings.DATABASES["default"]
    holder = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=db_connection.settings_dict["NAME"],
        user=settings.DATABASE_OWNER["USER"],
        password=settings.DATABASE_OWNER["PASSWORD"],
    )
    try:
        holder.execute("LOCK TABLE instantly_webhookevent IN ACCESS EXCLUSIVE MODE")
        db_connection.ensure_connection()
        with db_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        response = post(client, delivery("cmp-x"), secret)
        assert response.status_code == 503
        assert response.json() == {"error": "could not store the delivery, try again"}
    finally:
        holder.close()
        with db_connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert threading.active_count() >= 1


def test_the_repair_puts_stored_timestamps_back_in_range(request, client, tenant_rows, alice, adam):
    """Rows written before timestamps were checked (as the attack left them) are repaired."""
    from django.db import connection

    from instantly.timestamps import repair_stored_timestamps

    year_zero = "0001-01-01 00:00:00+14"
    year_10000 = "9999-12-31 23:59:59-14"
    message = tenant_rows["a"]["message"]
    with staff_scope(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_contact SET last_activity_at = %s WHERE id = %s",
            [year_zero, tenant_rows["a"]["contact"].pk],
        )
        cursor.execute(
            "UPDATE messaging_message SET sent_at = %s WHERE id = %s", [year_10000, message.pk]
        )
        cursor.execute(
            "UPDATE messaging_thread SET last_message_at = %s WHERE id = %s",
            [year_10000, message.thread_id],
        )
        changed = repair_stored_timestamps(cursor)
    assert changed["campaigns_contact"] == 1
    assert changed["messaging_message"] == 1
    assert changed["messaging_thread"] == 1
    with staff_scope():
        repaired = Message.objects.get(pk=message.pk)
        assert repaired.sent_at == repaired.created_at
        assert Contact.objects.get(pk=tenant_rows["a"]["contact"].pk).last_activity_at is None
        assert repaired.thread.last_message_at == repaired.sent_at
    assert_every_page_renders(request, client, alice, adam)


def test_api_answers_with_lone_surrogates_and_nul_are_made_storable():
    """The same for what the Instantly API answers (sync stores those payloads too)."""
    import requests

    from instantly.transport import _decode

    response = requests.Response()
    response.status_code = 200
    response._content = b'{"name": "Camp\\ud800aign\\u0000", "ok": "\\ud83d\\ude00"}'
    assert _decode(response, "GET", "/x", []) == {"name": "Camp\ufffdaign", "ok": "😀"}
