"""Headers and pages an attacker reads first (issue 10, finding 6): Content-Security-Policy,
no caching of customer data, the API schema behind a login, branded error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory

from salesbrain.api import errors
from testkit import build_dataset, persona_client

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
SCHEMA = "/api/schema/?format=json"


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


def csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()
    }


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/", "/leads/", "/admin/", "/api/docs/", "/api/v1/me/"]
)
def test_every_page_has_a_content_security_policy_without_inline_script(client, adam, url):
    client.force_login(adam)
    policy = csp(client.get(url))
    assert policy["frame-ancestors"] == "'none'"
    assert "'self'" in policy["script-src"]
    assert "unsafe-inline" not in policy["script-src"]
    assert "unsafe-eval" not in policy["script-src"]
    assert policy["object-src"] == "'none'"


def test_no_template_has_inline_script_or_event_handlers():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: on* handler")
    assert offenders == []


def test_api_docs_load_their_start_script_from_a_file(client, adam):
    client.force_login(adam)
    body = client.get("/api/docs/").content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", body) is None


@pytest.mark.parametrize(
    "url", ["/", "/leads/", "/leads/export.csv", "/mailboxes/", "/inbox/", "/accounts/login/"]
)
def test_customer_pages_and_exports_are_never_cached(client, alice, data, url):
    if url != "/accounts/login/":
        client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/api/v1/me/", "/api/v1/leads/", "/api/v1/does-not-exist/"])
def test_api_answers_are_never_cached(request, data, url):
    response = persona_client(request, "alice").get(url)
    assert "no-store" in response["Cache-Control"]


def test_schema_and_docs_need_a_login(client):
    response = client.get(SCHEMA)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/?next=")
    assert client.get("/api/docs/?script=").status_code == 302


STAFF_PATHS = [
    "/api/v1/webhook-events/",
    "/api/v1/connections/",
    "/api/instantly/admin/campaigns",
    "/api/instantly/sync/workspace",
]


def test_customers_see_only_their_endpoints_in_the_schema(request, data):
    paths = persona_client(request, "alice").get(SCHEMA).json()["paths"]
    assert "/api/v1/leads/" in paths and "/api/v1/messages/search/" in paths
    assert [p for p in STAFF_PATHS if p in paths] == []


def test_staff_see_the_staff_endpoints_in_the_schema(request, data):
    paths = persona_client(request, "olga").get(SCHEMA).json()["paths"]
    assert [p for p in STAFF_PATHS if p not in paths] == []


def test_a_customer_gets_a_branded_404_that_lists_nothing(client, alice, settings):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Salesbrain" in body and "Page not found" in body
    assert "URLconf" not in body and "api/v1" not in body


@pytest.mark.parametrize(
    "handler,status,words",
    [
        (errors.bad_request, 400, "Bad request"),
        (errors.permission_denied, 403, "not allowed"),
        (errors.page_not_found, 404, "Page not found"),
    ],
)
def test_error_pages_are_branded(rf: RequestFactory, handler, status, words):
    response = handler(rf.get("/somewhere/"), Exception("x"))
    assert response.status_code == status
    body = response.content.decode()
    assert "Salesbrain" in body and words in body and "css/app.css" in body


def test_the_500_page_is_branded_and_needs_no_database(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = errors.server_error(rf.get("/somewhere/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Salesbrain" in body and "Something went wrong" in body


def test_the_demo_does_not_run_with_debug_on():
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert "DEBUG ?= 1" not in makefile
    assert re.search(r"^run:", makefile, re.M)
