"""check_connection: one clear sentence per outcome, Instantly faked with `responses`."""

from __future__ import annotations

import pytest
import requests
import responses

from accounts.tenancy import staff_scope
from instantly.checks import check_connection
from instantly.connections import client_for
from instantly.models import ProviderConnection

BASE = "https://api.instantly.test"
V2 = BASE + "/api/v2"


@pytest.fixture
def api(settings):
    settings.INSTANTLY_API_BASE_URL = BASE
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def check(connection):
    return check_connection(connection, client=client_for(connection, sleeper=lambda s: None))


def stored(connection):
    with staff_scope():
        return ProviderConnection.objects.unscoped().get(pk=connection.pk)


def _healthy(api, campaigns=3, accounts=2):
    api.get(V2 + "/workspaces/current", json={"id": "ws-shared", "name": "Agency HQ"})
    api.get(V2 + "/campaigns", json={"items": [{"id": f"c{i}"} for i in range(campaigns)]})
    api.get(
        V2 + "/accounts", json={"items": [{"email": f"m{i}@x.example"} for i in range(accounts)]}
    )


@pytest.mark.django_db
def test_a_working_key_reports_workspace_and_counts(api, shared_connection):
    _healthy(api)

    result = check(shared_connection)

    assert result.ok
    assert (result.workspace_id, result.workspace_name) == ("ws-shared", "Agency HQ")
    assert (result.campaigns, result.accounts, result.v1_ok) == (3, 2, None)
    assert result.message == (
        "Key valid for workspace Agency HQ (ws-shared); 3 campaign(s); 2 mailbox(es)."
    )
    assert stored(shared_connection).status == ProviderConnection.Status.ACTIVE


@pytest.mark.django_db
def test_counts_follow_every_page(api, shared_connection):
    api.get(V2 + "/workspaces/current", json={"id": "ws-shared", "name": "Agency HQ"})
    api.get(
        V2 + "/campaigns",
        json={"items": [{"id": "c1"}, {"id": "c2"}], "next_starting_after": "c2"},
        match=[responses.matchers.query_param_matcher({"limit": "100"})],
    )
    api.get(
        V2 + "/campaigns",
        json={"items": [{"id": "c3"}]},
        match=[responses.matchers.query_param_matcher({"limit": "100", "starting_after": "c2"})],
    )
    api.get(V2 + "/accounts", json={"items": []})

    assert check(shared_connection).campaigns == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "API key was refused"),
        (402, "no active paid plan"),
        (403, "lacks a scope"),
        (429, "rate limiting"),
        (500, "server error"),
        (503, "server error"),
    ],
)
def test_each_failure_class_gets_a_clear_message(api, shared_connection, status, words):
    api.get(V2 + "/workspaces/current", status=status, json={"message": "Nope"})

    result = check(shared_connection)

    assert not result.ok
    assert words in result.message
    assert "Nope" in result.message
    connection = stored(shared_connection)
    assert connection.status == ProviderConnection.Status.ERROR
    assert words in connection.last_error


@pytest.mark.django_db
def test_an_unreachable_api_says_so(api, shared_connection):
    api.get(V2 + "/workspaces/current", body=requests.ConnectionError("Name or service not known"))

    result = check(shared_connection)

    assert not result.ok
    assert "could not be reached" in result.message
    assert result.error == "InstantlyConnectionError"


@pytest.mark.django_db
def test_a_failing_listing_is_a_failed_check(api, shared_connection):
    api.get(V2 + "/workspaces/current", json={"id": "ws-shared"})
    api.get(V2 + "/campaigns", status=403, json={"message": "missing scope campaigns:read"})

    result = check(shared_connection)

    assert not result.ok and "lacks a scope" in result.message


@pytest.mark.django_db
def test_the_v1_key_is_checked_when_there_is_one(api, shared_connection):
    _healthy(api)
    api.get(BASE + "/api/v1/campaign/list", json=[{"id": "c0", "name": "x"}])
    shared_connection.api_key_v1 = "v1-key-AAAA"

    result = check(shared_connection)

    assert result.ok and result.v1_ok
    assert result.message.endswith("v1 key accepted.")
    assert api.calls[-1].request.params["api_key"] == "v1-key-AAAA"


@pytest.mark.django_db
def test_a_refused_v1_key_fails_the_check_without_showing_the_key(api, shared_connection):
    _healthy(api)
    api.get(
        BASE + "/api/v1/campaign/list",
        status=401,
        json={"error": "Invalid api_key v1-key-AAAA"},
    )
    shared_connection.api_key_v1 = "v1-key-AAAA"

    result = check(shared_connection)

    assert not result.ok and result.v1_ok is False
    assert "v1 key: The API key was refused" in result.message
    assert "v1-key-AAAA" not in result.message
    # v1 is only checked, never used: the connection itself stays usable.
    assert stored(shared_connection).status == ProviderConnection.Status.ACTIVE


@pytest.mark.django_db
def test_a_key_of_another_workspace_is_flagged(api, shared_connection):
    api.get(V2 + "/workspaces/current", json={"id": "ws-other", "name": "Other"})
    api.get(V2 + "/campaigns", json={"items": []})
    api.get(V2 + "/accounts", json={"items": []})

    result = check(shared_connection)

    assert not result.ok
    assert "mirrors workspace ws-shared" in result.message
