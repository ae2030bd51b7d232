"""Machine endpoints (salesbrain.machine_endpoints) skip the browser middleware, and only they."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.http import JsonResponse
from django.test import Client, override_settings
from django.urls import path

from accounts.tenancy import current_tenant, staff_scope
from instantly.models import WebhookEvent
from instantly.webhooks import views
from instantly.webhooks.auth import SECRET_HEADER
from instantly.webhooks.ingest import store_by_secret
from salesbrain import metrics
from testkit import make_connection

pytestmark = pytest.mark.django_db

URL = "/webhooks/instantly/webhook"
DELIVERY = {
    "timestamp": "2026-03-02T10:02:11.000Z",
    "event_type": "email_opened",
    "campaign_id": "0195a3c2-7d0e-7a31-9b1e-3c6f5d2a8e01",
    "lead_email": "maya.patel@bluepeak-analytics.example",
}


def deliver(client, secret, **extra):
    return client.post(
        URL, json.dumps(DELIVERY), content_type="application/json",
        headers={SECRET_HEADER: secret}, **extra,
    )  # fmt: skip


def test_the_webhook_path_is_a_machine_endpoint():
    assert URL.startswith(settings.MACHINE_PATH_PREFIXES)
    middleware = settings.MIDDLEWARE
    machine = middleware.index("salesbrain.machine_endpoints.MachineEndpointMiddleware")
    # Observability and the HTTPS redirect still run; sessions, login and the scope do not.
    assert middleware.index("salesbrain.middleware.RequestObservabilityMiddleware") < machine
    assert middleware.index("django.middleware.security.SecurityMiddleware") < machine
    for browser_only in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "accounts.middleware.TenantMiddleware",
        "csp.middleware.CSPMiddleware",
    ):
        assert middleware.index(browser_only) > machine


def test_a_delivery_is_stored_and_answered_without_browser_headers_or_cookies(client, org_a):
    _connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    response = deliver(client, secret)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response["X-Request-ID"]  # observability ran
    assert "Content-Security-Policy" not in response  # CSP did not
    assert not response.cookies  # neither did sessions nor CSRF
    with staff_scope():
        assert WebhookEvent.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_logged_in_browser_posting_a_delivery_gets_no_tenant_scope(alice, org_a, monkeypatch):
    """With a session cookie the tenant middleware would have opened a scope and a transaction
    around the receiver; past it, the delivery is stored on its own, committed before the
    answer, as every delivery from Instantly is."""
    _connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    seen = []

    def store(*args, **kwargs):
        seen.append((current_tenant(), db_connection.in_atomic_block))
        return store_by_secret(*args, **kwargs)

    monkeypatch.setattr(views, "store_by_secret", store)
    browser = Client()
    browser.force_login(alice)
    response = deliver(browser, secret)
    assert response.status_code == 200
    assert seen == [(None, False)]
    assert "sessionid" not in response.cookies


def test_the_delivery_is_counted_under_its_view_name(client, org_a):
    _connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    counter = metrics.HTTP_REQUESTS.labels("instantly_webhooks:receive", "POST", "200")
    before = counter._value.get()
    assert deliver(client, secret).status_code == 200
    assert counter._value.get() == before + 1


def test_a_delivery_for_a_host_not_allowed_is_400_and_not_stored(client, org_a):
    _connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    response = deliver(client, secret, HTTP_HOST="evil.example")
    assert response.status_code == 400
    with staff_scope():
        assert not WebhookEvent.objects.exists()


def test_an_unknown_machine_path_is_404_and_a_browser_path_keeps_its_middleware(client):
    assert client.post("/webhooks/nothing-here").status_code == 404
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response


def teapot(request):
    return JsonResponse({"served_by": "teapot"}, status=418)


urlpatterns = [path(URL.lstrip("/"), teapot)]


def test_a_machine_paths_view_is_remembered_per_urlconf_never_across_them(client):
    """The middleware remembers a path's view; a test (or a reload) that changes the URLconf
    gets the new URLconf's view, and the old one's again when it is put back."""
    assert deliver(client, "no-such-secret").status_code == 401  # the receiver
    with override_settings(ROOT_URLCONF=__name__):
        assert deliver(client, "no-such-secret").status_code == 418
        assert deliver(client, "no-such-secret").status_code == 418
    assert deliver(client, "no-such-secret").status_code == 401
