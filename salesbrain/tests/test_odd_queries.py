"""Odd query strings answer 4xx, never 500 (issue 10, finding 5).

A search PostgreSQL cannot parse (33 or more `-`, each a NOT, overflow its tsquery stack), a page
number past the end or too large for a bigint OFFSET, and portal periods near year 1 or 9999.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from testkit import build_dataset, persona_client

pytestmark = pytest.mark.django_db

SEARCH_PATHS = ["/api/v1/messages/search/", "/api/instantly/search/messages"]
UNPARSABLE = ["-" * 33, "-" * 200 + "pipeline", "- " * 40 + "pipeline", "pipeline " + "-" * 64]
HUGE_PAGES = ["1000", "99999999999999999999", str(2**63), "1e400"]
LISTS = [
    "/api/v1/campaigns/",
    "/api/v1/email-accounts/",
    "/api/v1/contacts/",
    "/api/v1/leads/",
    "/api/v1/threads/",
    "/api/v1/messages/",
    "/api/v1/messages/search/?q=pipeline",
    "/api/v1/webhook-events/",
    "/api/instantly/campaigns",
    "/api/instantly/search/messages?q=pipeline",
]


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


@pytest.mark.parametrize("path", SEARCH_PATHS)
@pytest.mark.parametrize("q", UNPARSABLE)
def test_search_postgresql_cannot_parse_answers_400_in_the_error_format(request, data, path, q):
    response = persona_client(request, "alice").get(path, {"q": q})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "q" in error["details"]


def test_a_parsable_search_still_finds_messages(request, data):
    response = persona_client(request, "alice").get(SEARCH_PATHS[0], {"q": "-unsubscribe pipeline"})
    assert response.status_code == 200
    assert response.json()["count"] > 0


@pytest.mark.parametrize("q", UNPARSABLE)
def test_admin_message_search_postgresql_cannot_parse_keeps_the_field_matches(
    client, adam, data, q
):
    client.force_login(adam)
    response = client.get(reverse("admin:messaging_message_changelist"), {"q": q})
    assert response.status_code == 200
    # The full-text half is skipped; the field half still runs (no message subject has "---").
    if "pipeline" not in q:
        assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("page", HUGE_PAGES)
def test_a_page_past_the_end_answers_404_in_json(request, data, page):
    client = persona_client(request, "adam")
    for path in LISTS:
        response = client.get(f"{path}{'&' if '?' in path else '?'}page={page}")
        assert response.status_code == 404, (path, page, response.content)
        assert response.json()["error"]["code"] == "not_found", path


@pytest.mark.parametrize("name", ["portal:dashboard", "portal:campaigns", "portal:leads"])
@pytest.mark.parametrize("page", HUGE_PAGES)
def test_portal_pages_take_any_page_number(client, alice, data, name, page):
    client.force_login(alice)
    assert client.get(reverse(name), {"page": page}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"start": "0001-01-01", "end": "0001-01-07"},
        {"start": "0001-01-01", "end": "0001-01-01"},
        {"start": "9999-12-25", "end": "9999-12-31"},
        {"start": "1999-12-25", "end": "2000-01-02"},
        {"start": "2101-01-01", "end": "2101-01-03"},
    ],
)
def test_portal_periods_outside_a_sane_range_answer_400(client, alice, data, params):
    client.force_login(alice)
    campaign = data.campaigns["a"][0]
    for url in (reverse("portal:dashboard"), reverse("portal:campaign", args=[campaign.pk])):
        response = client.get(url, params)
        assert response.status_code == 400, (url, params)
        assert b"Traceback" not in response.content


@pytest.mark.parametrize("q", UNPARSABLE)
def test_portal_inbox_search_postgresql_cannot_parse_is_an_empty_result(client, alice, data, q):
    client.force_login(alice)
    response = client.get(reverse("inbox:list"), {"q": q})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert response.context["form"].has_error("q")
