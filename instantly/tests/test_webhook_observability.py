"""What operators see of a delivery: a count per outcome, processing counts and times, and
log lines that join the receipt (request id, event id) to the processing (event id)."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError
from prometheus_client import REGISTRY

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent
from instantly.webhooks.auth import SECRET_HEADER
from testkit import make_connection
from testkit.logcapture import json_lines

pytestmark = pytest.mark.django_db

URL = "/webhooks/instantly/webhook"
HEADER = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")
OPENED = {
    "timestamp": "2026-03-02T10:02:11.000Z",
    "event_type": "email_opened",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": "0195a3c2-7d0e-7a31-9b1e-3c6f5d2a8e01",
    "campaign_name": "SaaS founders EU",
    "lead_email": "maya.patel@bluepeak-analytics.example",
    "email_account": "sam@salesbrain-mail.example",
}


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def deliveries(outcome):
    return sample("salesbrain_webhook_deliveries_total", outcome=outcome)


def processed(event_type):
    return sum(
        sample("salesbrain_events_processed_total", event_type=event_type, outcome=outcome)
        for outcome in ("processed", "ignored", "retrying", "failed")
    )


@pytest.fixture
def secret(org_a):
    _connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    return secret


def post(client, body, secret, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **{HEADER: secret}, **extra)


def test_each_outcome_of_the_receiver_is_counted(client, secret, settings, monkeypatch):
    before = {o: deliveries(o) for o in ("stored", "duplicate", "ignored", "unauthorized")}
    before |= {o: deliveries(o) for o in ("rejected", "failed")}

    assert post(client, OPENED, secret).status_code == 200
    assert deliveries("stored") == before["stored"] + 1
    assert post(client, OPENED, secret).json()["duplicate"] is True
    assert deliveries("duplicate") == before["duplicate"] + 1
    assert (
        # The seed's `campaign_started` is no Instantly event: stored and ignored.
        post(client, {**OPENED, "event_type": "campaign_started"}, secret).status_code == 200
    )
    assert deliveries("ignored") == before["ignored"] + 1
    assert post(client, OPENED, "wrong-secret").status_code == 401
    assert deliveries("unauthorized") == before["unauthorized"] + 1

    assert post(client, "not json", secret).status_code == 400
    settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES = 10
    assert post(client, OPENED, secret).status_code == 413
    assert client.get(URL).status_code == 405
    assert deliveries("rejected") == before["rejected"] + 3
    assert deliveries("stored") == before["stored"] + 1  # none of those

    settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES = 512 * 1024
    monkeypatch.setattr(
        "instantly.webhooks.views.store_by_secret",
        lambda *a, **kw: (_ for _ in ()).throw(DatabaseError("disk full")),
    )
    assert post(client, {**OPENED, "step": "2"}, secret).status_code == 503
    assert deliveries("failed") == before["failed"] + 1


def test_processing_is_counted_by_type_and_timed(
    client, secret, django_capture_on_commit_callbacks
):
    before = processed("opened")
    batches = sample("salesbrain_event_processing_seconds_count")
    lags = sample("salesbrain_event_lag_seconds_count")
    with django_capture_on_commit_callbacks(execute=True):  # processed in-process (no broker)
        assert post(client, OPENED, secret).status_code == 200
    assert processed("opened") == before + 1
    assert sample("salesbrain_event_processing_seconds_count") == batches + 1
    assert sample("salesbrain_event_lag_seconds_count") == lags + 1


def test_a_deliverys_request_id_is_on_its_row_access_line_and_processing_lines(
    client, secret, django_capture_on_commit_callbacks
):
    """No receipt line per delivery (the receiver's budget): the access line and the stored
    row carry the request id, and the processing lines carry both ids."""
    with json_lines() as captured, django_capture_on_commit_callbacks(execute=True):
        response = post(client, OPENED, secret, HTTP_X_REQUEST_ID="edge-req-42")
    event_id = response.json()["id"]
    assert response["X-Request-ID"] == "edge-req-42"

    assert captured.matching(f"webhook delivery {event_id}") == []
    with staff_scope():
        assert WebhookEvent.objects.get(pk=event_id).request_id == "edge-req-42"

    processing = captured.matching(f"webhook event {event_id} ")
    assert processing, "the processing line"
    for line in processing:
        assert line["event_id"] == event_id
        assert line["request_id"] == "edge-req-42"  # from the stored row, as in a worker
        assert line["task"] == "instantly.webhooks.tasks.process_webhook_event"

    (access,) = captured.matching(f"POST {URL} 200")
    assert access["request_id"] == "edge-req-42"
