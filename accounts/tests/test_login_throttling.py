"""Brute force on the login forms and the API (issue 10, finding 6).

Both login forms (the portal's and the operator console's) lock a username after repeated
wrong passwords, and an IP address that tries many usernames; the lockout says so plainly and
expires. Requests with invalid API tokens are throttled per IP.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from testkit import PASSWORD, token_client

pytestmark = pytest.mark.django_db

LOGIN_FORMS = ["login", "admin:login"]


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()


def attempt(client, name, username, password, ip="198.51.100.7"):
    return client.post(reverse(name), {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("name", LOGIN_FORMS)
def test_repeated_wrong_passwords_lock_the_username_with_a_clear_message(client, adam, name):
    statuses = [attempt(client, name, "adam", "wrong").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    response = attempt(client, name, "adam", PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    assert b"Too many failed login attempts" in response.content
    # Another address cannot log in as adam either: the username itself is locked.
    assert attempt(client, name, "adam", PASSWORD, ip="203.0.113.9").status_code == 429


@pytest.mark.parametrize("name", LOGIN_FORMS)
def test_one_address_trying_many_usernames_is_locked(client, adam, name):
    for n in range(5):
        attempt(client, name, f"guess{n}", "wrong")
    assert attempt(client, name, "adam", PASSWORD).status_code == 429
    assert not logged_in(client)
    # The username itself is not locked: adam logs in from elsewhere.
    attempt(client, name, "adam", PASSWORD, ip="203.0.113.9")
    assert logged_in(client)


def test_a_few_wrong_passwords_then_the_right_one_log_in(client, alice):
    for _ in range(3):
        attempt(client, "login", "alice", "wrong")
    response = attempt(client, "login", "alice", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_the_lockout_expires(client, alice, settings):
    from axes.models import AccessAttempt

    for _ in range(5):
        attempt(client, "login", "alice", "wrong")
    assert attempt(client, "login", "alice", PASSWORD).status_code == 429
    # Time passes beyond the cool-off period.
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )
    response = attempt(client, "login", "alice", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_invalid_api_tokens_are_throttled_per_address(alice):
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token sb_not-a-real-token")
    statuses = [
        stranger.get("/api/v1/me/", REMOTE_ADDR="198.51.100.7").status_code for _ in range(40)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    # Valid tokens, and invalid ones from other addresses, are not affected.
    assert token_client(alice).get("/api/v1/me/", REMOTE_ADDR="198.51.100.7").status_code == 200
    assert stranger.get("/api/v1/me/", REMOTE_ADDR="203.0.113.9").status_code == 401


def test_password_change_logs_out_every_other_session(client, alice):
    client.force_login(alice)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    alice.set_password("a brand new passphrase 42")
    alice.save()
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_sessions_last_twelve_hours_and_slide(client, alice, settings):
    from django.contrib.sessions.models import Session

    from accounts.sessions import REFRESHED_AT

    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is False
    client.force_login(alice)
    key = client.session.session_key
    # Eleven hours later (the session was last renewed then): one more page renews it.
    session = client.session
    session[REFRESHED_AT] = session[REFRESHED_AT] - 11 * 3600
    session.save()
    Session.objects.filter(pk=key).update(
        expire_date=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    assert client.get(reverse("portal:dashboard")).status_code == 200
    left = Session.objects.get(pk=key).expire_date - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=11, minutes=59) < left <= dt.timedelta(hours=12)
