"""register_webhook / resume_webhook with Instantly faked at the boundary (`responses`)."""

from __future__ import annotations

import json

import pytest
import responses
from django.core.exceptions import ImproperlyConfigured

from accounts.tenancy import staff_scope
from instantly.connections import client_for
from instantly.models import ProviderConnection
from instantly.subscriptions import SubscriptionNotFound, register_webhook, resume_webhook
from instantly.webhooks.auth import SECRET_HEADER

BASE = "https://api.instantly.test"
HOOKS = BASE + "/api/v2/webhooks"
URL = "https://salesbrain.example/webhooks/instantly/"


@pytest.fixture
def api(settings):
    settings.INSTANTLY_API_BASE_URL = BASE
    settings.INSTANTLY_WEBHOOK_URL = URL
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def _client(connection):
    return client_for(connection, sleeper=lambda s: None)


def _hook(hook_id, secret, url=URL, status=1, event_type="all_events"):
    return {
        "id": hook_id,
        "target_hook_url": url,
        "event_type": event_type,
        "campaign": None,
        "headers": {SECRET_HEADER: secret},
        "status": status,
    }


def _stored_id(connection):
    with staff_scope():
        return ProviderConnection.objects.unscoped().get(pk=connection.pk).webhook_subscription_id


@pytest.mark.django_db
def test_registers_all_events_with_the_secret_header(api, shared_connection):
    api.get(HOOKS, json={"items": []})
    api.post(HOOKS, json=_hook("wh-1", shared_connection.webhook_secret))

    webhook = register_webhook(shared_connection, client=_client(shared_connection))

    body = json.loads(api.calls[-1].request.body)
    assert body == {
        "target_hook_url": URL,
        "event_type": "all_events",
        "headers": {SECRET_HEADER: shared_connection.webhook_secret},
    }
    assert webhook.id == "wh-1"
    assert _stored_id(shared_connection) == "wh-1"


@pytest.mark.django_db
def test_reuses_a_current_subscription_for_the_same_url(api, shared_connection):
    secret = shared_connection.webhook_secret
    listed = [_hook("wh-other", "x", url="https://else.example/"), _hook("wh-1", secret, url=URL)]
    listed[1]["target_hook_url"] = URL.rstrip("/")  # same URL, spelled without the slash
    api.get(HOOKS, json={"items": listed})
    create = api.post(HOOKS, json={})

    webhook = register_webhook(shared_connection, client=_client(shared_connection))

    assert webhook.id == "wh-1"
    assert create.call_count == 0
    assert _stored_id(shared_connection) == "wh-1"


@pytest.mark.django_db
def test_replaces_a_subscription_with_a_stale_secret(api, shared_connection):
    api.get(HOOKS, json={"items": [_hook("wh-old", "rotated-away")]})
    delete = api.delete(HOOKS + "/wh-old", status=200, json={"id": "wh-old"})
    api.post(HOOKS, json=_hook("wh-new", shared_connection.webhook_secret))

    webhook = register_webhook(shared_connection, client=_client(shared_connection))

    assert delete.call_count == 1
    assert webhook.id == "wh-new"
    assert _stored_id(shared_connection) == "wh-new"


@pytest.mark.django_db
def test_registering_resumes_a_disabled_subscription(api, shared_connection):
    secret = shared_connection.webhook_secret
    api.get(HOOKS, json={"items": [_hook("wh-1", secret, status=-1)]})
    resume = api.post(HOOKS + "/wh-1/resume", json=_hook("wh-1", secret, status=1))

    webhook = register_webhook(shared_connection, client=_client(shared_connection))

    assert resume.call_count == 1
    assert webhook.status == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [-1, -2, 0, 2])
def test_any_status_but_active_is_resumed_not_only_minus_one(api, shared_connection, status):
    """The disabled value is -1 in the OpenAPI spec only; any status other than 1 resumes."""
    secret = shared_connection.webhook_secret
    api.get(HOOKS, json={"items": [_hook("wh-1", secret, status=status)]})
    resume = api.post(HOOKS + "/wh-1/resume", json=_hook("wh-1", secret, status=1))

    register_webhook(shared_connection, client=_client(shared_connection))

    assert resume.call_count == 1


@pytest.mark.django_db
def test_a_subscription_with_a_null_event_type_is_not_all_events(api, shared_connection):
    """event_type null delivers custom-label events only: it is replaced by an all_events one."""
    secret = shared_connection.webhook_secret
    api.get(HOOKS, json={"items": [_hook("wh-labels", secret, event_type=None)]})
    delete = api.delete(HOOKS + "/wh-labels", status=200, json={"id": "wh-labels"})
    api.post(HOOKS, json=_hook("wh-all", secret))

    webhook = register_webhook(shared_connection, client=_client(shared_connection))

    assert delete.call_count == 1
    assert json.loads(api.calls[-1].request.body)["event_type"] == "all_events"
    assert webhook.id == "wh-all"


@pytest.mark.django_db
def test_no_webhook_url_is_a_configuration_error(api, settings, shared_connection):
    settings.INSTANTLY_WEBHOOK_URL = ""
    with pytest.raises(ImproperlyConfigured, match="INSTANTLY_WEBHOOK_URL"):
        register_webhook(shared_connection, client=_client(shared_connection))
    assert len(api.calls) == 0


@pytest.mark.django_db
def test_resume_calls_instantly_for_the_stored_subscription(api, shared_connection):
    shared_connection.webhook_subscription_id = "wh-1"
    resume = api.post(HOOKS + "/wh-1/resume", json=_hook("wh-1", "s"))

    webhook = resume_webhook(shared_connection, client=_client(shared_connection))

    assert resume.call_count == 1 and webhook.id == "wh-1"


@pytest.mark.django_db
def test_resume_without_a_subscription_says_register_first(api, shared_connection):
    with pytest.raises(SubscriptionNotFound, match="no webhook subscription"):
        resume_webhook(shared_connection, client=_client(shared_connection))


@pytest.mark.django_db
def test_resume_of_a_deleted_subscription_forgets_it(api, shared_connection):
    with staff_scope():
        ProviderConnection.objects.unscoped().filter(pk=shared_connection.pk).update(
            webhook_subscription_id="wh-gone"
        )
    shared_connection.webhook_subscription_id = "wh-gone"
    api.post(HOOKS + "/wh-gone/resume", status=404, json={"message": "Webhook not found"})

    with pytest.raises(SubscriptionNotFound, match="register it again"):
        resume_webhook(shared_connection, client=_client(shared_connection))

    assert _stored_id(shared_connection) == ""
