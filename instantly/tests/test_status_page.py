"""The operator status page: who sees it, and that its numbers are the database's, linked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.models import Alert, SubscriptionState, SyncRun, WebhookEvent

pytestmark = pytest.mark.django_db

URL = "/admin/status/"


def event(connection, n, status, event_type="email_opened", minutes_ago=0, error=""):
    with staff_scope():
        return WebhookEvent.objects.create(
            connection=connection,
            payload={"n": n},
            event_type=event_type,
            dedupe_key=f"status-{n}",
            received_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
            status=status,
            last_error=error,
        )


def test_customers_and_anonymous_callers_do_not_see_it(client, alice):
    assert client.get(URL).status_code == 302  # to the admin login
    client.force_login(alice)
    assert client.get(URL).status_code == 302


def test_operators_see_lag_backlog_by_type_connections_and_errors(client, olga, shared_connection):
    event(shared_connection, 1, "pending", minutes_ago=20)
    event(shared_connection, 2, "pending", "reply_received", minutes_ago=5)
    failed = event(shared_connection, 3, "failed", "reply_received", error="lead vanished")
    event(shared_connection, 4, "processed")
    with staff_scope():
        alert = Alert.objects.create(
            kind=Alert.Kind.CONNECTION_ERROR, title="Key expired", connection=shared_connection
        )
        SyncRun.objects.create(connection=shared_connection, outcome="ok", throttled=0)
        run = SyncRun.objects.create(
            connection=shared_connection, outcome="failed", throttled=7, error="rate limited"
        )
        shared_connection.webhook_subscription_id = "sub-1"
        shared_connection.webhook_subscription_state = SubscriptionState.DISABLED
        shared_connection.save()
    client.force_login(olga)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    processing = response.context["processing"]
    assert (processing.pending, processing.failed) == (2, 1)
    assert 1190 < processing.lag_seconds < 1300
    by_type = {row.event_type: row for row in processing.by_type}
    assert (by_type["reply_received"].pending, by_type["reply_received"].failed) == (1, 1)
    assert "status__exact=failed&amp;event_type__exact=reply_received" in page
    assert f"/admin/instantly/webhookevent/{failed.pk}/change/" in page
    assert "lead vanished" in page
    assert f"/admin/instantly/alert/{alert.pk}/change/" in page
    assert f"/admin/instantly/providerconnection/{shared_connection.pk}/change/" in page
    (state,) = response.context["connections"]
    assert state.last_delivery_at is not None
    assert state.last_run == run  # the latest run, with its 429s
    assert "7 throttled (429)" in page
    assert f"/admin/instantly/syncrun/{run.pk}/change/" in page
    assert state.subscription_disabled
    assert "Disabled by Instantly" in page
    assert [r.pk for r in response.context["failed_syncs"]] == [run.pk]


def test_the_console_home_links_to_it(client, olga):
    client.force_login(olga)
    assert URL in client.get("/admin/").content.decode()
