"""Delivery reconciliation and test deliveries against the sandbox: deliveries Instantly's log
shows as failed are replayed once and never twice, a subscription disabled for a while loses
nothing, a test delivery is reported as arrived (or not) within the wait."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tenancy import staff_scope
from instantly.connections import client_for
from instantly.delivery_test import run_test_delivery
from instantly.models import MissedDelivery, WebhookEvent, WebhookTest
from instantly.reconcile import delivery_figures, reconcile_deliveries
from instantly.sandbox import DEFAULT_API_KEY, SandboxApp, SandboxServer, SandboxWorkspace
from instantly.sandbox.delivery_log import deliver, log_of
from instantly.sandbox.webhooks import generate_deliveries
from instantly.webhooks.auth import SECRET_HEADER
from instantly.webhooks.queue import drain
from messaging.models import Message
from testkit import make_connection

RECEIVER = "/webhooks/instantly/webhook"


@pytest.fixture
def sandbox():
    app = SandboxApp(SandboxWorkspace(seed=5, campaigns=2, accounts=4, leads_per_campaign=20))
    with SandboxServer(app) as server:
        yield app, server


@pytest.fixture
def subscribed(db, sandbox, settings):
    """A connection subscribed in the sandbox to our receiver, with its secret header."""
    settings.INSTANTLY_WEBHOOK_URL = f"http://127.0.0.1:9{RECEIVER}"  # nothing listens
    app, _ = sandbox
    connection, secret = make_connection(
        "Sandbox workspace", is_shared=True, api_key=DEFAULT_API_KEY, with_secret=True
    )
    webhook = app.workspace.create_webhook(
        {"target_hook_url": settings.INSTANTLY_WEBHOOK_URL, "headers": {SECRET_HEADER: secret}}
    )
    with staff_scope():
        connection.webhook_subscription_id = webhook["id"]
        connection.save()
    return connection, webhook


def _post_to_receiver(url, json=None, headers=None, timeout=None):
    """The sandbox's POST, answered by our real receiver view (Django's test client)."""
    return Client().post(
        RECEIVER, data=_dumps(json), content_type="application/json", headers=headers
    )


def _dumps(payload):
    return json.dumps(payload)


def _reconcile(connection, server, **options):
    with client_for(connection, base_url=server.base_url, sleeper=lambda s: None) as client:
        return reconcile_deliveries(connection, client=client, **options)


def _events(connection, **filters) -> list[WebhookEvent]:
    with staff_scope():
        return list(WebhookEvent.objects.unscoped().filter(connection_id=connection.pk, **filters))


def test_failed_deliveries_are_replayed_once_and_never_twice(sandbox, subscribed):
    app, server = sandbox
    connection, _ = subscribed
    payloads = list(generate_deliveries(app.workspace, 60, seed=5))
    failed = set()
    for index, payload in enumerate(payloads):
        lost = index % 4 == 0
        deliver(app.workspace, payload, fail=lost, post=_post_to_receiver)
        if lost:
            failed.add(json.dumps(payload, sort_keys=True))
    received = len(_events(connection))
    assert received == len(payloads) - len(failed)
    assert sum(not e["success"] for e in log_of(app.workspace).entries) == len(failed)

    first = _reconcile(connection, server)

    assert (first.missed, first.recovered) == (len(failed), len(failed))
    assert len(_events(connection)) == len(payloads)
    replayed = _events(connection, request_id__startswith="reconcile:")
    assert {json.dumps(e.payload, sort_keys=True) for e in replayed} == failed
    report = drain()
    assert report.failed == 0

    second = _reconcile(connection, server)
    third = _reconcile(connection, server, since=None)
    assert (second.missed, third.missed) == (0, 0)
    assert len(_events(connection)) == len(payloads)
    with staff_scope():
        assert MissedDelivery.objects.unscoped().filter(connection=connection).count() == len(
            failed
        )
    figures = delivery_figures(connection)
    assert figures["missed"] == figures["recovered"] == len(failed)
    assert figures["last_received_at"] is not None


def test_a_failure_instantly_retried_successfully_is_not_replayed(sandbox, subscribed):
    app, server = sandbox
    connection, _ = subscribed
    payload = next(generate_deliveries(app.workspace, 1, seed=6))
    deliver(app.workspace, payload, fail=True)
    deliver(app.workspace, payload, post=_post_to_receiver)  # Instantly's retry got through

    result = _reconcile(connection, server)

    assert result.failed == 1 and result.missed == 0
    assert len(_events(connection)) == 1


def test_a_subscription_disabled_for_an_hour_loses_nothing(sandbox, subscribed):
    app, server = sandbox
    connection, webhook = subscribed
    payloads = list(generate_deliveries(app.workspace, 40, seed=7))
    app.workspace.set_webhook_status(webhook["id"], False)
    for payload in payloads[:25]:
        deliver(app.workspace, payload, post=_post_to_receiver)
    app.workspace.set_webhook_status(webhook["id"], True)
    for payload in payloads[25:]:
        deliver(app.workspace, payload, post=_post_to_receiver)
    assert len(_events(connection)) == 15

    result = _reconcile(connection, server)
    drain()

    assert result.recovered == 25
    assert len(_events(connection)) == 40
    with staff_scope():
        assert not _events(connection, status=WebhookEvent.Status.FAILED)
        sent = {p["email_id"] for p in payloads if p["event_type"] == "email_sent"}
        stored = set(
            Message.objects.unscoped()
            .filter(instantly_email_id__in=sent)
            .values_list("instantly_email_id", flat=True)
        )
    assert stored == sent


def test_deliveries_to_another_url_are_not_ours(sandbox, subscribed):
    app, server = sandbox
    connection, _ = subscribed
    other = app.workspace.create_webhook({"target_hook_url": "https://hooks.zapier.example/x"})
    payload = next(generate_deliveries(app.workspace, 1, seed=8))
    deliver(app.workspace, payload, fail=True, webhooks=[other])

    assert _reconcile(connection, server).missed == 0


@pytest.mark.django_db(transaction=True)
def test_a_test_delivery_is_reported_as_arrived(live_server, settings):
    app = SandboxApp(SandboxWorkspace(seed=5, campaigns=1, accounts=2, leads_per_campaign=2))
    connection, secret = make_connection(
        "Sandbox workspace", is_shared=True, api_key=DEFAULT_API_KEY, with_secret=True
    )
    webhook = app.workspace.create_webhook(
        {"target_hook_url": live_server.url + RECEIVER, "headers": {SECRET_HEADER: secret}}
    )
    with staff_scope():
        connection.webhook_subscription_id = webhook["id"]
        connection.save()
    with SandboxServer(app) as server:
        with client_for(connection, base_url=server.base_url) as client:
            test = run_test_delivery(connection, client=client, wait=30)
    assert test.outcome == WebhookTest.Outcome.ARRIVED, test.detail
    assert test.arrived_at is not None
    assert app.stats()["by_path"]["POST /api/v2/webhooks/{id}/test"] == 1


def test_a_test_delivery_that_never_comes_is_reported_missing(sandbox, subscribed):
    app, server = sandbox
    connection, _ = subscribed  # its URL is not served: nothing can arrive
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with client_for(connection, base_url=server.base_url) as client:
        test = run_test_delivery(connection, client=client, sleep=sleep, clock=lambda: now[0])
    assert test.outcome == WebhookTest.Outcome.MISSING
    assert "30 s" in test.detail
    assert now[0] >= 30


def test_staff_see_deliveries_missed_and_recovered_on_the_connection_page(
    client, olga, sandbox, subscribed
):
    app, server = sandbox
    connection, _ = subscribed
    payloads = list(generate_deliveries(app.workspace, 6, seed=9))
    for index, payload in enumerate(payloads):
        deliver(app.workspace, payload, fail=index < 2, post=_post_to_receiver)
    _reconcile(connection, server)

    client.force_login(olga)
    url = reverse("admin:instantly_providerconnection_change", args=[connection.pk])
    page = client.get(url).content.decode()

    assert "Last delivery received" in page and "never" not in page.split("Last delivery")[1][:300]
    assert "2 missed in Instantly&#x27;s log, 2 recovered" in page
    assert "Last test delivery" in page and "History backfill" in page
    listing = client.get(reverse("admin:instantly_misseddelivery_changelist")).content.decode()
    for payload in payloads[:2]:  # each missed delivery is listed with its event type
        assert f">{payload['event_type']}<" in listing
    assert listing.count('class="field-event_type"') == 2


def test_the_commands_report_what_they_did(sandbox, subscribed):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from instantly.connections import served_by

    app, server = sandbox
    connection, _ = subscribed
    payload = next(generate_deliveries(app.workspace, 1, seed=10))
    deliver(app.workspace, payload, fail=True)
    out = StringIO()
    with served_by(server.base_url):
        call_command("instantly_reconcile", "--connection", connection.name, stdout=out)
        assert "1 delivery(ies) never received, 1 replayed" in out.getvalue()
        err = StringIO()
        with pytest.raises(CommandError, match="no test delivery arrived"):
            call_command(
                "instantly_test_webhook", "--connection", connection.name, "--wait", "0.5",
                stderr=err,
            )  # fmt: skip
    assert "did not arrive" in err.getvalue()
