"""The fixed cost of an API request (issue 16, item 5): token, memberships and staff groups are
cached per request and per token, and every change to them takes effect in this process at once.

Before the cache, `GET /api/v1/me/` took 6 queries here on every request (token, memberships,
staff groups, a second staff-groups query for `is_agency_admin`, and the tenant scope's
savepoint and its release); the scope's `set_config` goes through a plain psycopg cursor and
is not counted.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts import auth_cache
from accounts.api_tokens import ApiToken
from accounts.models import Membership
from accounts.roles import SB_ADMIN
from testkit.clients import key_client

pytestmark = [pytest.mark.django_db, pytest.mark.auth_cache]

ME = "/api/v1/me/"


def queries_of(client, url=ME) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in ctx.captured_queries]


def test_me_is_answered_without_auth_queries_once_cached(alice):
    _token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    first = queries_of(client)
    # A first request looks up token, memberships and staff groups (and notes last use).
    assert any("accounts_apitoken" in sql for sql in first)
    assert any("accounts_membership" in sql for sql in first)
    assert sum("auth_group" in sql for sql in first) == 1  # staff and admin from one query
    # Then: only the tenant scope's savepoint and release (the test's transaction is outside).
    again = queries_of(client)
    assert len(again) == 2, again
    assert all("SAVEPOINT" in sql for sql in again)


def test_me_query_count_with_django_assert_num_queries(alice, django_assert_num_queries):
    _token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    client.get(ME)
    with django_assert_num_queries(2):
        assert client.get(ME).json()["organization"]["role"] == "owner"


def test_without_the_cache_the_request_still_works_with_four_queries(alice):
    _token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    client.get(ME)
    with override_settings(API_AUTH_CACHE_SECONDS=0):
        auth_cache.clear()
        assert len(queries_of(client)) == 5  # token, memberships, groups + savepoint pair


def test_a_revoked_token_is_refused_at_once(alice):
    token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    queries_of(client)
    token.revoke()
    assert client.get(ME).status_code == 401


def test_an_expired_token_is_refused_at_once_though_cached(alice):
    expires = timezone.now() + dt.timedelta(milliseconds=500)
    token, key = ApiToken.issue(alice, "script", expires_at=expires)
    client = key_client(key)
    queries_of(client)
    assert auth_cache._tokens[token.digest]  # cached, for longer than it has left to live
    time.sleep(max(0.0, (expires - timezone.now()).total_seconds()) + 0.05)
    assert client.get(ME).status_code == 401


def test_a_removed_membership_and_a_changed_role_take_effect_at_once(alice, org_a):
    _token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    assert client.get(ME).json()["organization"]["role"] == "owner"
    membership = Membership.objects.get(user=alice, organization=org_a)
    membership.role = "viewer"
    membership.save()
    assert client.get(ME).json()["organization"]["role"] == "viewer"
    membership.delete()
    body = client.get(ME).json()
    assert body["organization"] is None and body["memberships"] == []


def test_joining_or_leaving_a_staff_group_takes_effect_at_once(alice):
    _token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    assert client.get(ME).json()["is_agency_admin"] is False
    group, _ = Group.objects.get_or_create(name=SB_ADMIN)
    alice.groups.add(group)
    body = client.get(ME).json()
    assert body["is_agency_staff"] is True and body["is_agency_admin"] is True
    alice.groups.remove(group)
    assert client.get(ME).json()["is_agency_staff"] is False


def test_a_deactivated_user_is_refused_at_once(alice):
    _token, key = ApiToken.issue(alice, "script")
    client = key_client(key)
    queries_of(client)
    alice.is_active = False
    alice.save()
    assert client.get(ME).status_code == 401


def test_a_lookup_that_raced_with_a_change_is_not_kept(alice):
    token, key = ApiToken.issue(alice, "script")
    seen = auth_cache.generation()
    auth_cache.clear()  # a change lands between the lookup and the store
    auth_cache.store_token(token.digest, token, seen)
    assert auth_cache.cached_token(token.digest) is None


def test_cached_entries_expire(alice):
    token, _key = ApiToken.issue(alice, "script")
    with override_settings(API_AUTH_CACHE_SECONDS=0.001):
        auth_cache.store_token(token.digest, token, auth_cache.generation())
        time.sleep(0.01)
        assert auth_cache.cached_token(token.digest) is None
