"""`/metrics`: who may scrape, what it lists, and that each count moves when its event happens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent
from salesbrain import metrics

pytestmark = pytest.mark.django_db

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, **extra):
    return client.get("/metrics", **extra)


def test_loopback_may_scrape_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = scrape(client, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert scrape(client, REMOTE_ADDR="::1").status_code == 200


def test_other_addresses_are_refused_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = scrape(client, **REMOTE)
    assert response.status_code == 403
    assert b"salesbrain_" not in response.content


def test_with_a_token_only_the_bearer_of_it_may_scrape(client, settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert scrape(client, **REMOTE).status_code == 401
    assert scrape(client, REMOTE_ADDR="127.0.0.1").status_code == 401  # loopback needs it too
    wrong = scrape(client, HTTP_AUTHORIZATION="Bearer not-the-token", **REMOTE)
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    right = scrape(client, HTTP_AUTHORIZATION="Bearer scrape-token-0123456789", **REMOTE)
    assert right.status_code == 200


def test_scrape_lists_every_name_with_the_live_backlog(client, shared_connection):
    received = timezone.now() - dt.timedelta(minutes=5)
    with staff_scope():
        for n, status in enumerate(["pending", "pending", "processed", "failed"]):
            WebhookEvent.objects.create(
                connection=shared_connection,
                payload={"n": n},
                event_type="email_opened",
                dedupe_key=f"key-{n}",
                received_at=received + dt.timedelta(seconds=n),
                status=status,
            )
    text = scrape(client).content.decode()
    for name in (
        "salesbrain_webhook_deliveries_total",
        "salesbrain_events_processed_total",
        "salesbrain_event_processing_seconds",
        "salesbrain_instantly_requests_total",
        "salesbrain_sync_duration_seconds",
        "salesbrain_http_requests_total",
        "salesbrain_http_request_duration_seconds",
        "salesbrain_db_queries_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("salesbrain_webhook_") and "{" not in line
    }
    assert values["salesbrain_webhook_pending"] == 2
    assert values["salesbrain_webhook_failed"] == 1
    assert 290 < values["salesbrain_webhook_oldest_pending_seconds"] < 400
    assert 'salesbrain_connection_up{connection="Agency workspace"} 1.0' in text


def test_a_request_is_counted_by_url_name_with_its_latency_and_queries(client):
    labels = {"view": "healthz", "method": "GET", "status": "200"}
    before = sample("salesbrain_http_requests_total", **labels)
    latency_before = sample("salesbrain_http_request_duration_seconds_count", view="healthz")
    client.get("/healthz")
    assert sample("salesbrain_http_requests_total", **labels) == before + 1
    assert sample("salesbrain_http_request_duration_seconds_count", view="healthz") == (
        latency_before + 1
    )


def test_unknown_paths_share_one_label(client):
    labels = {"view": "<unmatched>", "method": "GET", "status": "404"}
    before = sample("salesbrain_http_requests_total", **labels)
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    assert sample("salesbrain_http_requests_total", **labels) == before + 2


def test_database_queries_are_counted_by_the_view_that_sent_them(client, alice):
    client.force_login(alice)
    before = sample("salesbrain_db_queries_total", source="portal:dashboard")
    assert client.get("/").status_code == 200
    assert sample("salesbrain_db_queries_total", source="portal:dashboard") > before


def test_a_failing_scrape_source_leaves_the_rest(client):
    def broken():
        raise RuntimeError("database away")

    metrics.on_scrape("test-broken", broken)
    try:
        response = scrape(client)
    finally:
        metrics._scrape_sources.pop("test-broken")
    assert response.status_code == 200
    assert b"salesbrain_http_requests_total" in response.content
