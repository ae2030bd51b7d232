"""Sentry receives errors with their context, and not one secret or email body.

The SDK is started with a transport that keeps each envelope in memory (nothing leaves the
process); the test then searches the serialized envelopes for every secret involved.
"""

from __future__ import annotations

import logging

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from sentry_sdk.transport import Transport

from salesbrain.errortracking import FILTERED, Scrubber, init_sentry, scrub_literals

API_KEY = "instantly-api-key-5f1d9c0a7b"
WEBHOOK_SECRET = "whsec-9a8b7c6d5e4f3a2b1c0d"
SESSION_ID = "sessionid-value-q1w2e3r4t5y6"
CSRF_TOKEN = "csrf-token-value-z9x8c7v6b5n4"
BEARER = "sb_Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdo"  # an API token's shape
EMAIL_BODY = "Hi Maya, our pricing for Bluepeak is 4,000 EUR per seat"
SETTINGS_KEY = "settings-secret-key-for-the-sentry-test-0123456789"


def failing_view(request):
    api_key = API_KEY  # noqa: F841 - a local variable Sentry must not send
    payload = {"reply_text": EMAIL_BODY, "webhook_secret": WEBHOOK_SECRET}
    logging.getLogger("salesbrain.tests").info("about to fail with %s", BEARER)
    raise RuntimeError(f"could not process {payload!r} with key {API_KEY}")


def ok_view(request):
    return HttpResponse("ok")


urlpatterns = [path("boom", failing_view), path("ok", ok_view)]


class KeepingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope.serialize().decode(errors="replace"))


@pytest.fixture
def sentry(settings):
    transport = KeepingTransport()
    settings.SECRET_KEY = SETTINGS_KEY
    init_sentry(
        dsn="https://public@sentry.invalid/1",
        environment="test",
        release="salesbrain@test",
        traces_sample_rate=0.0,
        literals=scrub_literals(settings) + [API_KEY],
        transport=transport,
    )
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: nothing is sent by the tests that follow


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_an_error_reaches_sentry_without_any_secret(sentry):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = SESSION_ID
    client.cookies["csrftoken"] = CSRF_TOKEN
    response = client.post(
        "/boom?token=" + BEARER,
        data={"reply_html": EMAIL_BODY},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {BEARER}",
        HTTP_X_SALESBRAIN_WEBHOOK_SECRET=WEBHOOK_SECRET,
        HTTP_X_REQUEST_ID="req-sentry-1",
    )
    assert response.status_code == 500
    sentry_sdk.flush()
    sent = "\n".join(sentry.envelopes)
    assert "RuntimeError" in sent, "the error itself must reach Sentry"
    assert "salesbrain@test" in sent and '"environment":"test"' in sent
    assert '"request_id":"req-sentry-1"' in sent  # a tag, to find the log lines
    for secret in (API_KEY, WEBHOOK_SECRET, SESSION_ID, CSRF_TOKEN, BEARER, EMAIL_BODY):
        assert secret not in sent, secret
    assert SETTINGS_KEY not in sent


def test_the_scrubber_removes_secrets_by_key_shape_and_value():
    scrubber = Scrubber(["literal-secret-value"])
    event = {
        "message": "connect postgres://owner:pw-123456@db/x with Bearer abcdefghijkl",
        "extra": {
            "api_key": "k",
            "nested": [{"password": "p", "email_text": "body", "subject": "Hello"}],
            "note": "it was literal-secret-value",
            "fernet": "gAAAAABlY2lwaGVydGV4dC1vZi1hLXNlY3JldC0wMTIzNDU2Nzg5",
        },
        "request": {
            "headers": {"Cookie": "a=b", "User-Agent": "curl", "X-Api-Key": "k2"},
            "cookies": {"sessionid": "s"},
            "data": {"body": "x"},
            "query_string": "page=2&api_key=k3",
        },
        "user": {"email": "alice@example.com"},
    }
    clean = scrubber.event(event)
    assert clean["message"] == (f"connect postgres://owner:{FILTERED}@db/x with Bearer {FILTERED}")
    assert clean["extra"]["api_key"] == FILTERED
    assert clean["extra"]["nested"] == [
        {"password": FILTERED, "email_text": FILTERED, "subject": "Hello"}
    ]
    assert clean["extra"]["note"] == f"it was {FILTERED}"
    assert clean["extra"]["fernet"] == FILTERED
    assert clean["request"]["headers"] == {
        "Cookie": FILTERED,
        "User-Agent": "curl",
        "X-Api-Key": FILTERED,
    }
    assert "cookies" not in clean["request"] and "data" not in clean["request"]
    assert clean["request"]["query_string"] == f"page=2&api_key={FILTERED}"
    assert "user" not in clean
