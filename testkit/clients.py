"""Clients for API and page tests (like `rest_framework.test`), and what each persona is answered.

Personas are those of `testkit.personas` plus `anonymous` and `revoked` (alice's token,
revoked). Every API client authenticates with its own fresh token, the way a frontend does.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.api_tokens import ApiToken

CUSTOMERS = ("alice", "victor", "bob")
STAFF = ("olga", "adam")
PERSONAS = ("alice", "victor", "bob", "charlie", "olga", "adam", "anonymous", "revoked")


def key_client(key: str, user=None) -> APIClient:
    """A client sending `Authorization: Token <key>`; `client.user` is who the key belongs to."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user
    return client


def token_client(user) -> APIClient:
    """A client with a new API token of `user`."""
    _token, key = ApiToken.issue(user, "tests")
    return key_client(key, user)


def persona_client(request, persona: str) -> APIClient:
    """The client of a persona name (its fixture resolved through `request`), throttles reset."""
    cache.clear()  # throttle counters
    if persona == "anonymous":
        client = APIClient()
        client.user = None
        return client
    if persona == "revoked":
        user = request.getfixturevalue("alice")
        token, key = ApiToken.issue(user, "revoked")
        token.revoke()
        return key_client(key, user)
    return token_client(request.getfixturevalue(persona))


def expected_status(persona: str, *, staff_only: bool = False, ok: int = 200) -> int:
    """The status a read endpoint answers each persona."""
    if persona in ("anonymous", "revoked"):
        return 401
    if persona in STAFF:
        return ok
    if staff_only or persona == "charlie":
        return 403
    return ok


def results(response) -> list[dict]:
    """The rows of a list response, paginated or not."""
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def count_queries(client, url) -> int:
    """How many SQL queries a GET of `url` takes (it must answer 200)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)
