"""instantly.connections: the shared connection from the environment, clients, bookkeeping."""

from __future__ import annotations

import pytest
import responses

from accounts.tenancy import staff_scope
from instantly import connections as conns
from instantly.connections import (
    CLIENT_RATE_LIMITS,
    client_for,
    ensure_shared_connection,
    explain_error,
    find_connections,
    record_failure,
    record_success,
    redact,
)
from instantly.errors import (
    InstantlyAuthenticationError,
    InstantlyConnectionError,
    InstantlyMissingScopeError,
    InstantlyPaymentRequiredError,
    InstantlyRateLimitedError,
    InstantlyServerError,
)
from instantly.limiter import limiter_from_url
from instantly.models import Alert, ProviderConnection
from testkit import make_connection

KEY = "sk-env-shared-KEY-1234abcd"
V1_KEY = "v1-env-KEY-5678efgh"


def _shared():
    with staff_scope():
        return list(ProviderConnection.objects.unscoped().filter(is_shared=True))


@pytest.mark.django_db
def test_no_key_in_the_environment_creates_nothing(settings):
    settings.INSTANTLY_API_KEY = ""
    assert ensure_shared_connection() is None
    assert _shared() == []


@pytest.mark.django_db
def test_environment_key_creates_the_shared_connection_once(settings):
    settings.INSTANTLY_API_KEY, settings.INSTANTLY_API_KEY_V1 = KEY, V1_KEY

    created = ensure_shared_connection()
    again = ensure_shared_connection()

    (stored,) = _shared()
    assert created.pk == again.pk == stored.pk
    assert stored.organization_id is None and stored.is_shared
    assert (stored.api_key, stored.api_key_v1, stored.api_key_last4) == (KEY, V1_KEY, "abcd")
    assert KEY not in stored.api_key_encrypted  # encrypted at rest
    # An unchanged key is not re-encrypted (Fernet tokens differ each time): no write at all.
    assert stored.api_key_encrypted == created.api_key_encrypted


@pytest.mark.django_db
def test_a_new_environment_key_replaces_the_old_one_and_clears_its_error(settings):
    settings.INSTANTLY_API_KEY = KEY
    connection = ensure_shared_connection()
    record_failure(connection, InstantlyAuthenticationError("Invalid API key", status_code=401))

    settings.INSTANTLY_API_KEY = "sk-env-rotated-KEY-0000wxyz"
    ensure_shared_connection()

    (stored,) = _shared()
    assert stored.api_key == "sk-env-rotated-KEY-0000wxyz"
    assert (stored.status, stored.last_error) == (ProviderConnection.Status.ACTIVE, "")


@pytest.mark.django_db
def test_an_unset_v1_key_leaves_the_stored_one_alone(settings):
    settings.INSTANTLY_API_KEY, settings.INSTANTLY_API_KEY_V1 = KEY, V1_KEY
    ensure_shared_connection()
    settings.INSTANTLY_API_KEY_V1 = ""
    ensure_shared_connection()
    assert _shared()[0].api_key_v1 == V1_KEY


@pytest.mark.django_db
def test_client_uses_the_configured_base_url_the_key_and_the_workspace_budget(
    settings, shared_connection
):
    settings.INSTANTLY_API_BASE_URL = "https://api.instantly.test"
    client = client_for(shared_connection)
    assert client.base_url == "https://api.instantly.test"
    assert client.workspace_key == "ws-shared"
    assert client.limiter is limiter_from_url(None, CLIENT_RATE_LIMITS)
    assert shared_connection.api_key not in repr(client)
    with responses.RequestsMock() as rsps:
        rsps.get("https://api.instantly.test/api/v2/workspaces/current", json={"id": "ws-shared"})
        client.get_current_workspace()
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer test-shared-key-0000"


@pytest.mark.django_db
def test_client_of_a_connection_without_workspace_id_has_its_own_budget(shared_connection):
    shared_connection.workspace_id = ""
    assert client_for(shared_connection).workspace_key == f"connection-{shared_connection.pk}"


def test_rate_limits_keep_a_margin_under_instantlys():
    per_second, per_minute = CLIENT_RATE_LIMITS
    assert (per_second.limit, per_second.period) == (90, 1.0)
    assert per_minute.limit / per_minute.period * 60 <= 6000 * 0.9


@pytest.mark.parametrize(
    ("broker", "redis", "expected"),
    [
        ("", "", None),
        ("redis://cache:6379/0", "", "redis://cache:6379/0"),
        ("amqp://guest@rabbit//", "redis://cache:6379/1", "redis://cache:6379/1"),
        ("amqp://guest@rabbit//", "", None),
    ],
)
def test_limiter_is_shared_through_redis_only_when_there_is_one(settings, broker, redis, expected):
    settings.CELERY_BROKER_URL, settings.REDIS_URL = broker, redis
    assert conns._limiter_url() == expected


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (InstantlyAuthenticationError("Unauthorized", status_code=401), "key was refused"),
        (InstantlyPaymentRequiredError("Payment", status_code=402), "paid plan"),
        (InstantlyMissingScopeError("Forbidden", status_code=403), "lacks a scope"),
        (InstantlyRateLimitedError("Too many", status_code=429), "rate limiting"),
        (InstantlyServerError("Bad gateway", status_code=502), "server error"),
        (InstantlyConnectionError("ConnectTimeout"), "could not be reached"),
    ],
)
def test_each_failure_class_gets_its_own_explanation(error, words):
    message = explain_error(error)
    assert words in message
    assert str(error) in message  # the server's own words follow


@pytest.mark.django_db
def test_failure_is_recorded_with_secrets_redacted_and_one_open_alert(shared_connection):
    leaky = InstantlyAuthenticationError(f"bad key {shared_connection.api_key}", status_code=401)

    message = record_failure(shared_connection, leaky)
    record_failure(shared_connection, InstantlyServerError("down", status_code=503))

    with staff_scope():
        stored = ProviderConnection.objects.unscoped().get(pk=shared_connection.pk)
        alerts = list(Alert.objects.unscoped().filter(connection=shared_connection))
    assert shared_connection.api_key not in message
    assert "***" in message
    assert stored.status == ProviderConnection.Status.ERROR
    assert "server error" in stored.last_error  # the latest failure
    assert len(alerts) == 1 and "server error" in alerts[0].message
    assert alerts[0].organization_id is None  # the shared workspace's alert: staff only

    record_success(shared_connection, synced=True)

    with staff_scope():
        stored = ProviderConnection.objects.unscoped().get(pk=shared_connection.pk)
        alert = Alert.objects.unscoped().get(pk=alerts[0].pk)
    assert (stored.status, stored.last_error) == (ProviderConnection.Status.ACTIVE, "")
    assert stored.last_synced_at is not None and alert.resolved_at is not None


@pytest.mark.django_db
def test_a_disabled_connection_stays_disabled(shared_connection):
    shared_connection.status = ProviderConnection.Status.DISABLED
    record_failure(shared_connection, InstantlyServerError("down", status_code=500))
    record_success(shared_connection)
    with staff_scope():
        stored = ProviderConnection.objects.unscoped().get(pk=shared_connection.pk)
    assert stored.status == ProviderConnection.Status.DISABLED


@pytest.mark.django_db
def test_redact_hides_keys_and_the_webhook_secret(shared_connection):
    shared_connection.api_key_v1 = V1_KEY
    text = f"{shared_connection.api_key} {V1_KEY} {shared_connection.webhook_secret} ok"
    assert redact(text, shared_connection) == "*** *** *** ok"


@pytest.mark.django_db
def test_connections_are_chosen_by_name_or_id(shared_connection, org_a):
    other = make_connection("Acme's own", organization=org_a, api_key="acme-key-0000")
    with staff_scope():
        ProviderConnection.objects.unscoped().filter(pk=other.pk).update(
            status=ProviderConnection.Status.DISABLED
        )

    assert [c.pk for c in find_connections()] == [shared_connection.pk]
    assert len(find_connections(include_disabled=True)) == 2
    assert [c.pk for c in find_connections("Acme's own")] == [other.pk]
    assert [c.pk for c in find_connections(str(other.pk))] == [other.pk]
    with pytest.raises(ProviderConnection.DoesNotExist):
        find_connections("nope")
