"""Liveness asks nothing; readiness asks the database, the broker and the processing lag."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_touching_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0


def test_readiness_reports_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "processing_lag"}
    assert body["checks"]["processing_lag"]["pending"] == 0


def test_readiness_fails_when_processing_lags(client, settings, shared_connection):
    settings.READINESS_MAX_LAG_SECONDS = 60
    with staff_scope():
        WebhookEvent.objects.create(
            connection=shared_connection,
            payload={},
            event_type="email_opened",
            dedupe_key="old",
            received_at=timezone.now() - dt.timedelta(minutes=5),
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    lag = response.json()["checks"]["processing_lag"]
    assert lag["ok"] is False
    assert lag["oldest_pending_seconds"] >= 300


def test_readiness_fails_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(
        "salesbrain.health.check_database", lambda: {"ok": False, "error": "OperationalError"}
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_probes_and_metrics_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
