"""The original system's endpoints at their exact paths, for every persona; and the staff
viewsets of the Instantly boundary (provider connections, webhook events)."""

from __future__ import annotations

from unittest import mock

import pytest

from accounts.tenancy import staff_scope
from instantly.models import ProviderConnection, WebhookEvent
from testkit import (
    PERSONAS,
    build_dataset,
    expected_status,
    persona_client,
    results,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


def original_gets(data) -> list[tuple[str, bool]]:
    """(path, staff only) of every original GET endpoint, pointing at org A's rows."""
    campaign, box = data.campaigns["a"][0], data.mailboxes["a"][0]
    return [
        ("/api/instantly/admin/campaigns", True),
        ("/api/instantly/admin/email-accounts", True),
        (f"/api/instantly/admin/campaign/{campaign.pk}/stats", True),
        (f"/api/instantly/admin/email-account/{box.pk}/stats", True),
        ("/api/instantly/campaigns", False),
        ("/api/instantly/email-accounts", False),
        (f"/api/instantly/campaign/{campaign.pk}/messages", False),
        ("/api/instantly/stats", False),
        ("/api/instantly/search/messages?q=pipeline", False),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_original_get_endpoint_per_persona(request, data, org_a, org_b, persona):
    client = persona_client(request, persona)
    for path, staff_only in original_gets(data):
        response = client.get(path)
        expected = expected_status(persona, staff_only=staff_only)
        if persona == "bob" and "/campaign/" in path and not staff_only:
            expected = 404  # org A's campaign
        assert response.status_code == expected, (path, response.content)
        assert response["Content-Type"] == "application/json"
        if response.status_code == 200 and "results" in response.json():
            orgs = {row["organization"] for row in results(response)}
            if persona in ("alice", "victor"):
                allowed = {str(org_a.pk)} | ({None} if "email-accounts" in path else set())
                assert orgs <= allowed, path
            if persona == "bob":
                assert orgs <= {str(org_b.pk)}, path


def test_original_paths_have_no_trailing_slash(request, data):
    client = persona_client(request, "alice")
    assert client.get("/api/instantly/campaigns").status_code == 200
    response = client.get("/api/instantly/campaigns/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_admin_lists_include_the_shared_workspace(request, data):
    rows = results(persona_client(request, "olga").get("/api/instantly/admin/campaigns"))
    assert "Campaign SHARED0" in {row["name"] for row in rows}
    assert len(rows) == 6


def test_admin_campaign_stats_for_a_shared_campaign(request, data):
    shared = data.campaigns["shared"][0]
    response = persona_client(request, "adam").get(
        f"/api/instantly/admin/campaign/{shared.pk}/stats",
        {"start": "2026-11-01", "end": "2026-11-10"},
    )
    assert response.status_code == 200
    assert response.json()["totals"]["sent"] == 1000


def test_customer_stats_and_search(request, data, org_a):
    client = persona_client(request, "alice")
    stats = client.get("/api/instantly/stats", {"start": "2026-11-01", "end": "2026-11-10"})
    assert stats.json()["organization"] == str(org_a.pk)
    assert stats.json()["totals"]["sent"] == 3000
    found = client.get("/api/instantly/search/messages", {"q": "unsubscribe"}).json()
    assert found["count"] == 3
    assert "<mark>unsubscribe</mark>" in found["results"][0]["headline"]
    assert client.get("/api/instantly/search/messages").status_code == 400


def test_messages_of_another_organizations_campaign_are_404(request, data):
    campaign = data.campaigns["b"][0]
    response = persona_client(request, "alice").get(
        f"/api/instantly/campaign/{campaign.pk}/messages"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_health_is_public(request, persona):
    response = persona_client(request, persona).get("/api/instantly/health")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True


def test_health_reports_a_dead_dependency_as_503(client):
    dead = {"ok": False, "mode": "broker", "error": "OperationalError"}
    with mock.patch("instantly.views.health._check_broker", return_value=dead):
        response = client.get("/api/instantly/health")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["details"]["checks"]["broker"] == dead


# --- POST /api/instantly/sync/workspace -------------------------------------------------------


@pytest.mark.parametrize(
    "persona,status",
    [("olga", 202), ("adam", 202), ("alice", 403), ("bob", 403), ("victor", 403),
     ("charlie", 403), ("anonymous", 401), ("revoked", 401)],
)  # fmt: skip
def test_sync_workspace_per_persona(
    request, shared_connection, django_capture_on_commit_callbacks, persona, status
):
    with mock.patch("instantly.tasks.sync_workspace_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = persona_client(request, persona).post(
                "/api/instantly/sync/workspace", {}, format="json"
            )
    assert response.status_code == status, response.content
    if status == 202:
        assert response.json() == {
            "status": "queued", "connection": str(shared_connection.pk), "full": False,
        }  # fmt: skip
        delay.assert_called_once_with(str(shared_connection.pk), False)
    else:
        delay.assert_not_called()


def test_sync_a_named_connection_fully(
    request, shared_connection, django_capture_on_commit_callbacks
):
    with mock.patch("instantly.tasks.sync_workspace_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = persona_client(request, "olga").post(
                "/api/instantly/sync/workspace",
                {"connection": str(shared_connection.pk), "full": True},
                format="json",
            )
    assert response.status_code == 202
    delay.assert_called_once_with(str(shared_connection.pk), True)


def test_sync_of_a_disabled_or_unknown_connection(request, shared_connection):
    client = persona_client(request, "olga")
    unknown = client.post(
        "/api/instantly/sync/workspace",
        {"connection": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )
    assert unknown.status_code == 404
    with staff_scope():
        ProviderConnection.objects.filter(pk=shared_connection.pk).update(status="disabled")
    disabled = client.post("/api/instantly/sync/workspace", {}, format="json")
    assert disabled.status_code == 409
    assert disabled.json()["error"]["code"] == "connection_disabled"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_sync_workspace_is_post_only(request, method):
    response = getattr(persona_client(request, "olga"), method)("/api/instantly/sync/workspace")
    assert response.status_code == 405
    assert "POST" in response.json()["error"]["details"]["allowed"]


# --- /api/v1/connections/ ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_connections_are_staff_only(request, shared_connection, persona):
    client = persona_client(request, persona)
    for url in ("/api/v1/connections/", f"/api/v1/connections/{shared_connection.pk}/"):
        assert client.get(url).status_code == expected_status(persona, staff_only=True)


def test_api_keys_are_write_only(request, shared_connection, org_a):
    client = persona_client(request, "adam")
    created = client.post(
        "/api/v1/connections/",
        {"name": "Acme workspace", "organization": str(org_a.pk), "api_key": "sk-live-secret-9876"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert "sk-live-secret" not in created.content.decode()
    assert created.json()["api_key_last4"] == "9876"
    listed = client.get("/api/v1/connections/").content.decode()
    assert "sk-live-secret" not in listed and "webhook_secret" not in listed
    pk = created.json()["id"]
    rotated = client.patch(
        f"/api/v1/connections/{pk}/", {"api_key": "sk-new-key-1111"}, format="json"
    )
    assert rotated.json()["api_key_last4"] == "1111"
    with staff_scope():
        assert ProviderConnection.objects.get(pk=pk).api_key == "sk-new-key-1111"


def test_a_new_connection_needs_a_key(request):
    response = persona_client(request, "adam").post(
        "/api/v1/connections/", {"name": "No key"}, format="json"
    )
    assert response.status_code == 400
    assert "api_key" in response.json()["error"]["details"]


def test_operator_reads_connections_but_cannot_change_keys(request, shared_connection):
    client = persona_client(request, "olga")
    response = client.patch(
        f"/api/v1/connections/{shared_connection.pk}/", {"api_key": "sk-stolen-0000"}, format="json"
    )
    assert response.status_code == 403
    with staff_scope():
        assert ProviderConnection.objects.get(pk=shared_connection.pk).api_key.endswith("0000")
        assert ProviderConnection.objects.get(pk=shared_connection.pk).api_key != "sk-stolen-0000"


def test_deleting_a_connection_still_in_use_is_a_409(request, data, shared_connection):
    client = persona_client(request, "adam")
    response = client.delete(f"/api/v1/connections/{shared_connection.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "still_referenced"
    assert client.get(f"/api/v1/connections/{shared_connection.pk}/").status_code == 200


def test_connection_sync_action(request, shared_connection, django_capture_on_commit_callbacks):
    with mock.patch("instantly.tasks.sync_workspace_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = persona_client(request, "olga").post(
                f"/api/v1/connections/{shared_connection.pk}/sync/"
            )
    assert response.status_code == 202
    delay.assert_called_once_with(str(shared_connection.pk), False)


# --- /api/v1/webhook-events/ ------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_webhook_events_are_staff_only(request, data, persona):
    client = persona_client(request, persona)
    event = data.events["a"][0]
    for url in ("/api/v1/webhook-events/", f"/api/v1/webhook-events/{event.pk}/"):
        assert client.get(url).status_code == expected_status(persona, staff_only=True)
    response = client.post(f"/api/v1/webhook-events/{event.pk}/reprocess/")
    assert response.status_code == expected_status(persona, staff_only=True, ok=202)


def test_webhook_event_list_and_filters(request, data):
    client = persona_client(request, "olga")
    everything = client.get("/api/v1/webhook-events/").json()
    assert everything["count"] == 6
    assert "payload" not in everything["results"][0]
    failed = results(client.get("/api/v1/webhook-events/", {"status": "failed"}))
    assert {row["status"] for row in failed} == {"failed"} and len(failed) == 3
    detail = client.get(f"/api/v1/webhook-events/{data.events['a'][0].pk}/").json()
    assert detail["payload"] == {"n": 0}


def test_reprocess_puts_a_failed_event_back_in_the_queue(
    request, data, django_capture_on_commit_callbacks
):
    event = data.events["a"][0]
    with mock.patch("instantly.webhooks.tasks.enqueue_events") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            response = persona_client(request, "olga").post(
                f"/api/v1/webhook-events/{event.pk}/reprocess/"
            )
    assert response.status_code == 202
    assert response.json() == {"requeued": 1}
    enqueue.assert_called_once_with([event.pk])
    with staff_scope():
        assert WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.PENDING


def test_reprocessing_a_processed_event_is_a_409(request, data):
    event = data.events["a"][1]
    response = persona_client(request, "olga").post(f"/api/v1/webhook-events/{event.pk}/reprocess/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_reprocessable"


def test_bulk_reprocess_takes_only_failed_ones(request, data):
    ids = [e.pk for key in ("a", "b", "shared") for e in data.events[key]]
    with mock.patch("instantly.webhooks.tasks.enqueue_events"):
        response = persona_client(request, "adam").post(
            "/api/v1/webhook-events/reprocess/", {"ids": ids}, format="json"
        )
    assert response.status_code == 202
    assert response.json() == {"requeued": 3}
    bad = persona_client(request, "adam").post(
        "/api/v1/webhook-events/reprocess/", {"ids": []}, format="json"
    )
    assert bad.status_code == 400
