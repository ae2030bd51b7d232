"""Personal API tokens: created (key shown once), listed, revoked; the middleware and DRF agree
on the token's user; throttled per user and per token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.api_tokens import ApiToken, token_digest
from testkit import key_client, persona_client, results, token_client

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


def test_a_token_is_shown_once_and_stored_only_as_a_digest(request, alice):
    client = persona_client(request, "alice")
    response = client.post(TOKENS, {"name": "CRM sync", "expires_in_days": 30}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    assert key.startswith("sb_") and len(key) > 40
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.digest == token_digest(key) and key not in token.digest
    assert token.expires_at > timezone.now() + dt.timedelta(days=29)
    listed = results(client.get(TOKENS))
    assert all("key" not in row and "digest" not in row for row in listed)
    assert key_client(key).get("/api/v1/me/").json()["username"] == "alice"


def test_many_tokens_per_user_each_revocable_alone(request, alice):
    first, key1 = ApiToken.issue(alice, "one")
    _second, key2 = ApiToken.issue(alice, "two")
    response = key_client(key2).delete(f"{TOKENS}{first.pk}/")
    assert response.status_code == 204
    assert key_client(key1).get("/api/v1/me/").status_code == 401
    assert key_client(key2).get("/api/v1/me/").status_code == 200
    first.refresh_from_db()
    assert first.revoked_at is not None
    # Revoked tokens stay listed, and can be filtered out.
    active = results(key_client(key2).get(TOKENS, {"active": "true"}))
    assert "one" not in {row["name"] for row in active}


def test_a_revoked_token_is_401_in_the_error_format(request):
    response = persona_client(request, "revoked").get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_refused(alice):
    token, key = ApiToken.issue(alice, "old", expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert key_client(key).get("/api/v1/me/").status_code == 401


def test_an_inactive_users_token_is_refused(alice):
    _token, key = ApiToken.issue(alice, "x")
    alice.is_active = False
    alice.save()
    assert key_client(key).get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Bearer", "Token sb_unknown"])
def test_malformed_or_unknown_token_headers_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/me/").status_code == 401


def test_bearer_keyword_works_too(alice):
    _token, key = ApiToken.issue(alice, "x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").status_code == 200


def test_nobody_sees_or_revokes_anyone_elses_tokens(request, alice, bob):
    token, _key = ApiToken.issue(alice, "alice's")
    for persona in ("bob", "olga", "adam"):
        client = persona_client(request, persona)
        assert token.pk not in {row["id"] for row in results(client.get(TOKENS))}
        assert client.get(f"{TOKENS}{token.pk}/").status_code == 404
        assert client.delete(f"{TOKENS}{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("persona", ["alice", "victor", "charlie", "olga"])
def test_every_user_manages_their_own_tokens(request, persona):
    client = persona_client(request, persona)
    assert client.post(TOKENS, {"name": "mine"}, format="json").status_code == 201
    assert client.get(TOKENS).status_code == 200


def test_anonymous_cannot_create_tokens():
    response = APIClient().post(TOKENS, {"name": "x"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_too_many_active_tokens_is_a_409(alice):
    client = token_client(alice)
    for n in range(19):
        ApiToken.issue(alice, f"t{n}")
    response = client.post(TOKENS, {"name": "one more"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_tokens"


def test_token_user_wins_over_a_session_for_both_tenant_and_drf(alice, bob, org_b):
    """Middleware and DRF must act for the same person, or a scope could leak."""
    _token, key = ApiToken.issue(bob, "x")
    client = APIClient()
    client.force_login(alice)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = client.get("/api/v1/me/").json()
    assert body["username"] == "bob"
    assert body["organization"]["id"] == str(org_b.pk)


def test_last_used_is_recorded(alice):
    token, key = ApiToken.issue(alice, "x")
    key_client(key).get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def _rates(**rates):
    return {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": rates}


def test_each_token_has_its_own_budget_and_429_says_when_to_retry(alice):
    cache.clear()
    _t1, key1 = ApiToken.issue(alice, "one")
    _t2, key2 = ApiToken.issue(alice, "two")
    with override_settings(REST_FRAMEWORK=_rates(user="100/min", token="2/min", anon="100/min")):
        assert key_client(key1).get("/api/v1/me/").status_code == 200
        assert key_client(key1).get("/api/v1/me/").status_code == 200
        throttled = key_client(key1).get("/api/v1/me/")
        assert throttled.status_code == 429
        assert throttled.json()["error"]["code"] == "throttled"
        assert int(throttled["Retry-After"]) > 0
        assert throttled.json()["error"]["details"]["retry_after"] == int(throttled["Retry-After"])
        assert key_client(key2).get("/api/v1/me/").status_code == 200


def test_the_user_budget_spans_all_their_tokens(alice):
    cache.clear()
    _t1, key1 = ApiToken.issue(alice, "one")
    _t2, key2 = ApiToken.issue(alice, "two")
    with override_settings(REST_FRAMEWORK=_rates(user="2/min", token="100/min", anon="100/min")):
        assert key_client(key1).get("/api/v1/me/").status_code == 200
        assert key_client(key2).get("/api/v1/me/").status_code == 200
        assert key_client(key2).get("/api/v1/me/").status_code == 429


class _PublicView(APIView):
    """A public endpoint (every real one needs a login: elsewhere anonymous is a 401 first)."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({})


def test_anonymous_callers_are_throttled_per_ip():
    cache.clear()
    view = _PublicView.as_view()
    with override_settings(REST_FRAMEWORK=_rates(user="9/min", token="9/min", anon="1/min")):
        assert view(APIRequestFactory().get("/")).status_code == 200
        assert view(APIRequestFactory().get("/")).status_code == 429
