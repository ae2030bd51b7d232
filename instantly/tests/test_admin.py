"""Operator console for connections, webhook events and alerts.

The connection actions are tested with the services replaced at their module boundary (the
admin imports them at call time), so what is checked here is what the console does with a
result or a failure: the services have tests of their own.
"""

from __future__ import annotations

import types

import pytest
import responses
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from accounts.tenancy import staff_scope
from instantly.errors import InstantlyAuthenticationError
from instantly.models import Alert, ProviderConnection, WebhookEvent
from testkit import (
    SHARED_API_KEY,
    assert_console_pages_load,
    make_campaign,
    make_connection,
    make_console_rows,
    make_webhook_event,
    messages_of,
    registered_models,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/instantly/providerconnection/"
EVENTS = "/admin/instantly/webhookevent/"
ALERTS = "/admin/instantly/alert/"


@pytest.fixture
def console_rows(tenant_rows, org_a, shared_connection):
    return make_console_rows(tenant_rows, org_a, shared_connection)


def change_url(connection):
    return reverse("admin:instantly_providerconnection_change", args=[connection.pk])


def run_action(client, url, action, pks):
    return client.post(
        url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True
    )


@pytest.mark.parametrize("persona", ["adam", "olga"])
@pytest.mark.parametrize("model", registered_models("instantly"), ids=lambda m: m.__name__)
def test_every_instantly_page_loads_for_staff(client, console_rows, request, persona, model):
    assert_console_pages_load(client, request.getfixturevalue(persona), model)


@pytest.mark.parametrize("url", [CHANGELIST, EVENTS, ALERTS])
def test_customers_and_anonymous_are_sent_to_login(client, alice, console_rows, url):
    assert client.get(url).status_code == 302
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- API keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["adam", "olga"])
def test_connection_pages_show_only_the_last_four_characters(
    client, request, console_rows, shared_connection, persona
):
    client.force_login(request.getfixturevalue(persona))
    for url in (CHANGELIST, change_url(shared_connection)):
        html = client.get(url).content.decode()
        assert SHARED_API_KEY not in html
        assert shared_connection.api_key_encrypted not in html
        assert shared_connection.webhook_secret not in html
        assert "…0000" in html


def test_admin_sets_a_new_key_that_is_stored_but_never_shown_or_logged(
    client, adam, shared_connection
):
    client.force_login(adam)
    new_key = "brand-new-secret-key-9876"
    response = client.post(
        change_url(shared_connection),
        {
            "name": "Agency workspace",
            "is_shared": "on",
            "workspace_id": "ws-shared",
            "workspace_name": "",
            "status": "active",
            "new_api_key": new_key,
            "new_api_key_v1": "",
            "_continue": "1",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert new_key not in response.content.decode()
    with staff_scope():
        shared_connection.refresh_from_db()
    assert shared_connection.api_key == new_key
    assert shared_connection.api_key_last4 == "9876"
    assert new_key not in repr(shared_connection)
    entries = list(LogEntry.objects.filter(object_id=str(shared_connection.pk)))
    assert entries, "the change should be in the admin history"
    assert all(new_key not in entry.change_message for entry in entries)
    history = reverse("admin:instantly_providerconnection_history", args=[shared_connection.pk])
    assert new_key not in client.get(history).content.decode()


def test_a_form_error_does_not_echo_the_typed_key(client, adam, shared_connection):
    client.force_login(adam)
    new_key = "typed-but-rejected-key-5555"
    response = client.post(
        change_url(shared_connection),
        {"name": "", "is_shared": "on", "status": "active", "new_api_key": new_key},
    )
    assert response.status_code == 200  # the form again, with errors
    assert "This field is required" in response.content.decode()
    assert new_key not in response.content.decode()
    with staff_scope():
        shared_connection.refresh_from_db()
    assert shared_connection.api_key == SHARED_API_KEY


def test_a_new_connection_needs_a_key(client, adam, org_a):
    client.force_login(adam)
    add_url = reverse("admin:instantly_providerconnection_add")
    response = client.post(add_url, {"name": "Acme workspace", "status": "active"})
    assert response.status_code == 200
    assert "A new connection needs an API key" in response.content.decode()
    response = client.post(
        add_url,
        {
            "name": "Acme workspace",
            "organization": str(org_a.pk),
            "status": "active",
            "new_api_key": "acme-dedicated-key-1234",
        },
    )
    assert response.status_code == 302
    with staff_scope():
        created = ProviderConnection.objects.get(name="Acme workspace")
    assert created.api_key == "acme-dedicated-key-1234"
    assert created.organization == org_a


def test_operator_sees_connections_but_cannot_add_change_or_set_keys(
    client, olga, shared_connection
):
    client.force_login(olga)
    page = client.get(change_url(shared_connection))
    assert page.status_code == 200
    assert 'name="new_api_key"' not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:instantly_providerconnection_add")).status_code == 403
    response = client.post(
        change_url(shared_connection),
        {"name": "Hijacked", "status": "active", "new_api_key": "operator-key-0001"},
    )
    assert response.status_code == 403
    delete = reverse("admin:instantly_providerconnection_delete", args=[shared_connection.pk])
    assert client.get(delete).status_code == 403
    with staff_scope():
        shared_connection.refresh_from_db()
    assert (shared_connection.name, shared_connection.api_key) == (
        "Agency workspace",
        SHARED_API_KEY,
    )


def test_admin_sees_the_key_fields(client, adam, shared_connection):
    client.force_login(adam)
    html = client.get(change_url(shared_connection)).content.decode()
    assert 'name="new_api_key"' in html
    assert 'type="password"' in html
    delete = reverse("admin:instantly_providerconnection_delete", args=[shared_connection.pk])
    assert SHARED_API_KEY not in client.get(delete).content.decode()


def test_autocomplete_finds_mailboxes_and_connections_for_an_alert(client, olga, console_rows):
    client.force_login(olga)
    url = reverse("admin:autocomplete")
    found = client.get(
        url,
        {
            "app_label": "instantly",
            "model_name": "alert",
            "field_name": "email_account",
            "term": "sender",
        },
    ).json()
    assert [r["text"] for r in found["results"]] == ["sender@agency.example"]
    found = client.get(
        url,
        {
            "app_label": "instantly",
            "model_name": "alert",
            "field_name": "connection",
            "term": "agency",
        },
    ).json()
    assert [r["text"] for r in found["results"]] == ["Agency workspace"]


# --- connection actions ---------------------------------------------------------------------


@pytest.fixture
def second_connection(db):
    return make_connection("Bluebird workspace", workspace_id="ws-b", api_key="bluebird-key-4321")


@pytest.mark.parametrize("persona", ["adam", "olga"])
def test_test_connection_reports_each_result(
    client, request, monkeypatch, shared_connection, second_connection, persona
):
    def fake_check(connection):
        if connection.pk == second_connection.pk:
            raise InstantlyAuthenticationError("Invalid API key bluebird-key-4321", status_code=401)
        return types.SimpleNamespace(ok=True, message="Workspace Agency reached, key valid")

    monkeypatch.setattr("instantly.admin.check_connection", fake_check)
    client.force_login(request.getfixturevalue(persona))
    response = run_action(
        client, CHANGELIST, "test_connection", [shared_connection.pk, second_connection.pk]
    )
    assert response.status_code == 200
    found = messages_of(response)
    assert (
        "success",
        "Agency workspace: connection test: Workspace Agency reached, key valid",
    ) in found
    [error] = [text for level, text in found if level == "error"]
    assert error.startswith("Bluebird workspace: connection test failed: The API key was refused")
    assert "bluebird-key-4321" not in response.content.decode()


def test_a_failed_check_result_is_reported_as_an_error(
    client, olga, monkeypatch, shared_connection
):
    monkeypatch.setattr(
        "instantly.admin.check_connection",
        lambda c: types.SimpleNamespace(ok=False, message="The API key lacks all:read"),
    )
    client.force_login(olga)
    response = run_action(client, CHANGELIST, "test_connection", [shared_connection.pk])
    assert messages_of(response) == [
        ("error", "Agency workspace: connection test failed: The API key lacks all:read")
    ]


def test_an_unexpected_error_is_reported_without_a_500_and_others_still_run(
    client, adam, monkeypatch, shared_connection, second_connection
):
    def fake_sync(connection):
        if connection.pk == shared_connection.pk:
            raise RuntimeError("bug")
        return types.SimpleNamespace(counts={"campaigns_created": 3, "accounts_updated": 0})

    monkeypatch.setattr("instantly.admin.sync_workspace", fake_sync)
    client.force_login(adam)
    response = run_action(
        client, CHANGELIST, "sync_now", [shared_connection.pk, second_connection.pk]
    )
    assert response.status_code == 200
    found = dict((text.split(":")[0], (level, text)) for level, text in messages_of(response))
    assert found["Agency workspace"][0] == "error"
    assert "unexpected RuntimeError" in found["Agency workspace"][1]
    assert found["Bluebird workspace"] == (
        "success",
        "Bluebird workspace: sync: campaigns created 3",
    )


def test_webhook_action_registers_a_missing_subscription_and_resumes_an_existing_one(
    client, olga, monkeypatch, shared_connection, second_connection
):
    calls = []

    def fake_register(connection):
        calls.append(("register", connection.pk))
        return types.SimpleNamespace(id="wh-new")

    monkeypatch.setattr("instantly.admin.register_webhook", fake_register)
    monkeypatch.setattr(
        "instantly.admin.resume_webhook",
        lambda connection: calls.append(("resume", connection.pk)),
    )
    with staff_scope():
        ProviderConnection.objects.filter(pk=second_connection.pk).update(
            webhook_subscription_id="wh-old"
        )
    client.force_login(olga)
    response = run_action(
        client,
        CHANGELIST,
        "register_or_resume_webhook",
        [shared_connection.pk, second_connection.pk],
    )
    assert sorted(calls) == sorted(
        [("register", shared_connection.pk), ("resume", second_connection.pk)]
    )
    assert sorted(messages_of(response)) == [
        ("success", "Agency workspace: webhook subscription: subscription wh-new registered"),
        ("success", "Bluebird workspace: webhook subscription: subscription wh-old resumed"),
    ]


def test_webhook_action_registers_again_when_instantly_lost_the_subscription(
    client, adam, monkeypatch, shared_connection
):
    from instantly.subscriptions import SubscriptionNotFound

    def gone(connection):
        raise SubscriptionNotFound("no longer exists")

    monkeypatch.setattr("instantly.admin.resume_webhook", gone)
    monkeypatch.setattr(
        "instantly.admin.register_webhook", lambda c: types.SimpleNamespace(id="wh-2")
    )
    with staff_scope():
        ProviderConnection.objects.filter(pk=shared_connection.pk).update(
            webhook_subscription_id="wh-1"
        )
    client.force_login(adam)
    response = run_action(client, CHANGELIST, "register_or_resume_webhook", [shared_connection.pk])
    assert messages_of(response) == [
        ("success", "Agency workspace: webhook subscription: subscription wh-2 registered")
    ]


def test_webhook_action_without_a_webhook_url_says_so(client, adam, settings, shared_connection):
    settings.INSTANTLY_WEBHOOK_URL = ""
    client.force_login(adam)
    response = run_action(client, CHANGELIST, "register_or_resume_webhook", [shared_connection.pk])
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "INSTANTLY_WEBHOOK_URL" in text


def test_a_sync_already_running_is_reported(client, olga, monkeypatch, shared_connection):
    from instantly.sync.run import SyncAlreadyRunning

    def busy(connection):
        raise SyncAlreadyRunning("a sync of 'Agency workspace' is already running")

    monkeypatch.setattr("instantly.admin.sync_workspace", busy)
    client.force_login(olga)
    response = run_action(client, CHANGELIST, "sync_now", [shared_connection.pk])
    assert messages_of(response) == [
        (
            "error",
            "Agency workspace: sync failed: a sync of 'Agency workspace' is already running",
        )
    ]


@responses.activate
def test_test_connection_through_the_real_check_records_a_refused_key(
    client, olga, settings, shared_connection
):
    """End to end down to HTTP: the check's failure bookkeeping survives the action."""
    responses.get(
        settings.INSTANTLY_API_BASE_URL.rstrip("/") + "/api/v2/workspaces/current",
        json={"message": "Invalid API key"},
        status=401,
    )
    client.force_login(olga)
    response = run_action(client, CHANGELIST, "test_connection", [shared_connection.pk])
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Agency workspace: connection test failed: The API key was refused")
    assert SHARED_API_KEY not in response.content.decode()
    with staff_scope():
        shared_connection.refresh_from_db()
        assert shared_connection.status == ProviderConnection.Status.ERROR
        assert Alert.objects.filter(
            connection=shared_connection, kind=Alert.Kind.CONNECTION_ERROR
        ).exists()


@responses.activate
def test_test_connection_through_the_real_check_reports_the_workspace(
    client, adam, settings, shared_connection
):
    base = settings.INSTANTLY_API_BASE_URL.rstrip("/") + "/api/v2"
    responses.get(base + "/workspaces/current", json={"id": "ws-shared", "name": "Agency"})
    responses.get(base + "/campaigns", json={"items": [{"id": "c1", "name": "One"}]})
    responses.get(base + "/accounts", json={"items": []})
    client.force_login(adam)
    response = run_action(client, CHANGELIST, "test_connection", [shared_connection.pk])
    [(level, text)] = messages_of(response)
    assert level == "success", text
    assert "Key valid for workspace Agency (ws-shared)" in text
    assert "1 campaign(s)" in text


# --- webhook events -------------------------------------------------------------------------


def test_event_payload_is_pretty_and_escaped(client, olga, shared_connection):
    with staff_scope():
        event = WebhookEvent.objects.create(
            connection=shared_connection,
            payload={"event_type": "reply_received", "reply_text": "<script>alert(1)</script>"},
            event_type_raw="reply_received",
            event_type="replied",
            dedupe_key="xss-1",
        )
    client.force_login(olga)
    html = client.get(
        reverse("admin:instantly_webhookevent_change", args=[event.pk])
    ).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Indented, one key per line, inside a <pre>.
    assert "<pre" in html
    assert "{\n  &quot;event_type&quot;: &quot;reply_received&quot;,\n  &quot;reply_text" in html


def test_event_filters_by_status_and_type(client, olga, shared_connection):
    with staff_scope():
        failed = make_webhook_event(shared_connection, "f1", WebhookEvent.Status.FAILED)
        processed = make_webhook_event(
            shared_connection,
            "p1",
            WebhookEvent.Status.PROCESSED,
            event_type="opened",
            event_type_raw="email_opened",
        )
    client.force_login(olga)

    def listed(query):
        html = client.get(EVENTS + query).content.decode()
        return {
            e.pk
            for e in (failed, processed)
            if reverse("admin:instantly_webhookevent_change", args=[e.pk]) in html
        }

    assert listed("") == {failed.pk, processed.pk}
    assert listed("?status__exact=failed") == {failed.pk}
    assert listed("?event_type__exact=opened") == {processed.pk}
    assert listed("?event_type_raw__exact=reply_received") == {failed.pk}
    assert listed("?attention=yes") == {failed.pk}
    assert listed("?q=email_opened") == {processed.pk}


def test_reprocess_requeues_failed_and_ignored_events_only(client, olga, shared_connection):
    with staff_scope():
        failed = make_webhook_event(shared_connection, "f1", WebhookEvent.Status.FAILED)
        ignored = make_webhook_event(shared_connection, "i1", WebhookEvent.Status.IGNORED)
        processed = make_webhook_event(shared_connection, "p1", WebhookEvent.Status.PROCESSED)
    client.force_login(olga)
    response = run_action(client, EVENTS, "reprocess", [failed.pk, ignored.pk, processed.pk])
    assert response.status_code == 200
    found = messages_of(response)
    assert ("success", "2 event(s) re-queued for processing.") in found
    assert any(level == "warning" and text.startswith("1 selected") for level, text in found)
    with staff_scope():
        statuses = {e.pk: e.status for e in WebhookEvent.objects.all()}
    assert statuses[processed.pk] == WebhookEvent.Status.PROCESSED
    assert statuses[failed.pk] not in (WebhookEvent.Status.FAILED,)
    assert statuses[ignored.pk] not in (WebhookEvent.Status.IGNORED,)


def test_events_cannot_be_added_by_hand(client, adam):
    client.force_login(adam)
    assert client.get(reverse("admin:instantly_webhookevent_add")).status_code == 403


# --- alerts ---------------------------------------------------------------------------------


def test_mark_resolved_resolves_open_alerts_and_the_filter_tells_them_apart(
    client, olga, shared_connection
):
    with staff_scope():
        open_alert = Alert.objects.create(kind=Alert.Kind.OTHER, title="Open one")
        done = Alert.objects.create(kind=Alert.Kind.OTHER, title="Done one")
        Alert.objects.filter(pk=done.pk).update(resolved_at="2026-01-01T00:00:00Z")
    client.force_login(olga)
    unresolved = client.get(ALERTS + "?resolved=no").content.decode()
    assert "Open one" in unresolved and "Done one" not in unresolved

    response = run_action(client, ALERTS, "mark_resolved", [open_alert.pk, done.pk])
    assert ("success", "1 alert(s) marked resolved.") in messages_of(response)
    with staff_scope():
        open_alert.refresh_from_db()
        done.refresh_from_db()
    assert open_alert.resolved_at is not None
    assert done.resolved_at.year == 2026  # an earlier resolution is kept
    assert "Open one" not in client.get(ALERTS + "?resolved=no").content.decode()


def test_a_connection_with_campaigns_cannot_be_deleted(client, adam, shared_connection):
    """Campaigns hold their workspace as a plain id; the console still protects it."""
    campaign = make_campaign(shared_connection, "cmp-protect", name="Still running")
    client.force_login(adam)
    delete = reverse("admin:instantly_providerconnection_delete", args=[shared_connection.pk])
    page = client.get(delete).content.decode()
    assert "Still running" in page and "would require deleting" in page
    client.post(delete, {"post": "yes"})
    with staff_scope():
        assert ProviderConnection.objects.filter(pk=shared_connection.pk).exists()
        with pytest.raises(ProtectedError), transaction.atomic():
            shared_connection.delete()
        campaign.delete()
        shared_connection.delete()
        assert not ProviderConnection.objects.filter(pk=shared_connection.pk).exists()
