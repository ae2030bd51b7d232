"""API lists count exactly up to API_EXACT_COUNT_LIMIT rows and say when they stopped there;
paging does not depend on the count, so a capped list still pages to its last row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testkit import build_dataset, persona_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages/"


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


def _all_ids(client, params):
    ids, page, pages = [], 1, []
    while True:
        body = client.get(URL, {**params, "page": page}).json()
        pages.append(body)
        ids += [row["id"] for row in body["results"]]
        if not body["next"]:
            return ids, pages
        page += 1


def test_below_the_limit_the_count_is_exact(request, data, settings):
    client = persona_client(request, "alice")
    total = len(_all_ids(client, {"page_size": 2})[0])
    settings.API_EXACT_COUNT_LIMIT = total
    body = client.get(URL, {"page_size": 2}).json()
    assert (body["count"], body["count_is_exact"]) == (total, True)


def test_past_the_limit_the_count_stops_and_every_row_is_still_reachable(request, data, settings):
    client = persona_client(request, "adam")
    every, _ = _all_ids(client, {"page_size": 2})
    assert len(every) > 4
    settings.API_EXACT_COUNT_LIMIT = 3
    capped, pages = _all_ids(client, {"page_size": 2})
    assert capped == every  # same rows, same order, no page lost past the count
    assert {(p["count"], p["count_is_exact"]) for p in pages} == {(3, False)}
    last = len(pages)
    assert client.get(URL, {"page_size": 2, "page": last + 1}).status_code == 404


def test_a_page_past_an_exact_count_is_404(request, data):
    client = persona_client(request, "alice")
    body = client.get(URL, {"page_size": 200}).json()
    assert body["count_is_exact"] and body["next"] is None
    assert client.get(URL, {"page_size": 200, "page": 2}).status_code == 404


def test_counting_stops_reading_at_the_limit(request, data, settings):
    settings.API_EXACT_COUNT_LIMIT = 3
    client = persona_client(request, "adam")
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    [count] = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert "LIMIT 4" in count and "ORDER BY" not in count


def test_search_counts_are_exact(request, data):
    body = persona_client(request, "alice").get(f"{URL}search/", {"q": "pipeline"}).json()
    assert body["count_is_exact"] is True and body["count"] == len(body["results"])
