"""Thread, message and search endpoints: statuses per persona, isolation, read state, filters,
and full-text search (ranked, highlighted, escaped, scoped)."""

from __future__ import annotations

import pytest

from accounts.tenancy import staff_scope
from messaging.models import Message, Thread
from messaging.search import render_headline
from testkit import (
    PERSONAS,
    build_dataset,
    expected_status,
    persona_client,
    results,
)

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/messages/search/"


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_and_details_per_persona(request, data, org_a, org_b, persona):
    client = persona_client(request, persona)
    thread_a, message_a = data.threads["a"][0], data.messages["a"][0]
    urls = [
        "/api/v1/threads/",
        "/api/v1/messages/",
        f"{SEARCH}?q=pipeline",
        f"/api/v1/threads/{thread_a.pk}/",
        f"/api/v1/messages/{message_a.pk}/",
    ]
    for url in urls:
        response = client.get(url)
        expected = expected_status(persona)
        if persona == "bob" and url[-2].isdigit():
            expected = 404
        assert response.status_code == expected, (url, response.content)
        if expected == 200 and "results" in response.json():
            orgs = {row["organization"] for row in results(response)}
            mine = {"alice": org_a, "victor": org_a, "bob": org_b}.get(persona)
            assert orgs == ({str(mine.pk)} if mine else {str(org_a.pk), str(org_b.pk), None})


def test_message_detail_has_the_body_and_the_list_does_not(request, data):
    client = persona_client(request, "alice")
    message = data.messages["a"][0]
    detail = client.get(f"/api/v1/messages/{message.pk}/").json()
    assert detail["body_text"].startswith("Hi, could our outbound engine")
    row = results(client.get("/api/v1/messages/", {"thread": message.thread_id}))[0]
    assert "body_text" not in row and "body_html" not in row


@pytest.mark.parametrize(
    "params,count",
    [
        ({"direction": "inbound"}, 9),
        ({"direction": "outbound"}, 30),
        ({"kind": ["reply", "auto_reply"]}, 9),
        ({"is_unread": "true"}, 9),
        ({"sent_after": "2026-11-10T00:00:00Z"}, 3),
        ({"sent_before": "2026-11-02T00:00:00Z"}, 3),
    ],
)
def test_message_filters(request, data, params, count):
    response = persona_client(request, "alice").get("/api/v1/messages/", params)
    assert response.json()["count"] == count


def test_messages_of_a_campaign_newest_first_and_paginated(request, data):
    campaign = data.campaigns["a"][2]
    client = persona_client(request, "alice")
    first = client.get(f"/api/v1/campaigns/{campaign.pk}/messages/", {"page_size": 5}).json()
    assert first["count"] == 13
    sent = [row["sent_at"] for row in first["results"]]
    assert sent == sorted(sent, reverse=True)
    assert {row["campaign"] for row in first["results"]} == {str(campaign.pk)}
    second = client.get(first["next"]).json()
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.parametrize("params,count", [({"has_reply": "true"}, 9), ({"is_unread": "false"}, 21)])
def test_thread_filters(request, data, params, count):
    response = persona_client(request, "alice").get("/api/v1/threads/", params)
    assert response.json()["count"] == count


def test_thread_ordering_by_last_message(request, data):
    response = persona_client(request, "alice").get(
        "/api/v1/threads/", {"ordering": "last_message_at", "page_size": 200}
    )
    stamps = [row["last_message_at"] for row in results(response)]
    assert stamps == sorted(stamps)


# --- read state -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,status", [("alice", 200), ("olga", 200), ("victor", 403), ("bob", 404)]
)
def test_marking_a_thread_read_needs_a_writer_role_in_its_organization(
    request, data, persona, status
):
    thread = data.threads["a"][0]  # unread, with an unread reply
    response = persona_client(request, persona).patch(
        f"/api/v1/threads/{thread.pk}/", {"is_unread": False}, format="json"
    )
    assert response.status_code == status, response.content
    with staff_scope():
        thread.refresh_from_db()
        unread_messages = Message.objects.filter(thread=thread, is_unread=True).count()
    assert thread.is_unread is (status != 200)
    assert unread_messages == (0 if status == 200 else 1)


def test_marking_a_message_unread_marks_its_thread_unread(request, data):
    thread = data.threads["a"][5]  # read, outbound only
    message = next(m for m in data.messages["a"] if m.thread_id == thread.pk)
    response = persona_client(request, "alice").patch(
        f"/api/v1/messages/{message.pk}/", {"is_unread": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_unread"] is True
    with staff_scope():
        assert Thread.objects.get(pk=thread.pk).is_unread is True


def test_read_state_requires_a_boolean(request, data):
    response = persona_client(request, "alice").patch(
        f"/api/v1/threads/{data.threads['a'][0].pk}/", {"is_unread": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert "is_unread" in response.json()["error"]["details"]


def test_other_fields_cannot_be_written(request, data):
    thread = data.threads["a"][0]
    response = persona_client(request, "alice").put(
        f"/api/v1/threads/{thread.pk}/", {"subject": "hijacked"}, format="json"
    )
    assert response.status_code == 405


# --- search -----------------------------------------------------------------------------------


def test_search_finds_ranks_and_highlights_within_the_organization(request, data, org_a):
    response = persona_client(request, "alice").get(SEARCH, {"q": "pricing calendar"})
    assert response.status_code == 200
    rows = results(response)
    assert len(rows) == 3  # the "interested" reply in each of A's three campaigns
    assert {row["organization"] for row in rows} == {str(org_a.pk)}
    assert all("<mark>Pricing</mark>" in row["headline"] for row in rows)
    assert all("<mark>calendar</mark>" in row["headline"] for row in rows)
    ranks = [row["rank"] for row in rows]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > 0


def test_search_ranks_subject_matches_above_body_matches(request, data):
    with staff_scope():
        thread = data.threads["a"][9]
        Message.objects.create(
            organization=thread.organization, thread=thread, campaign=thread.campaign,
            direction=Message.Direction.INBOUND, kind=Message.Kind.REPLY,
            subject="Unsubscribe", body_text="Thanks.", sent_at="2026-11-20T10:00:00Z",
        )  # fmt: skip
    rows = results(persona_client(request, "alice").get(SEARCH, {"q": "unsubscribe"}))
    assert rows[0]["subject"] == "Unsubscribe"
    assert len(rows) == 4


def test_search_never_returns_another_organizations_messages(request, data):
    with staff_scope():
        thread = data.threads["b"][0]
        Message.objects.create(
            organization=thread.organization, thread=thread, campaign=thread.campaign,
            direction=Message.Direction.INBOUND, kind=Message.Kind.REPLY,
            subject="Zebra", body_text="zebra zebra", sent_at="2026-11-20T10:00:00Z",
        )  # fmt: skip
    assert results(persona_client(request, "alice").get(SEARCH, {"q": "zebra"})) == []
    assert len(results(persona_client(request, "bob").get(SEARCH, {"q": "zebra"}))) == 1
    assert len(results(persona_client(request, "olga").get(SEARCH, {"q": "zebra"}))) == 1


def test_search_combines_with_filters(request, data):
    campaign = data.campaigns["a"][0]
    params = {"q": "pipeline", "campaign": campaign.pk, "direction": "outbound"}
    response = persona_client(request, "alice").get(SEARCH, params)
    assert response.json()["count"] == 10
    assert {row["campaign"] for row in results(response)} == {str(campaign.pk)}


def test_search_understands_web_search_syntax(request, data):
    client = persona_client(request, "alice")
    assert client.get(SEARCH, {"q": '"limited access"'}).json()["count"] == 3
    assert client.get(SEARCH, {"q": "office -monday"}).json()["count"] == 0
    assert client.get(SEARCH, {"q": "pricing or unsubscribe"}).json()["count"] == 6


@pytest.mark.parametrize("q", ["", "   "])
def test_search_without_words_is_400(request, data, q):
    response = persona_client(request, "alice").get(SEARCH, {"q": q})
    assert response.status_code == 400
    assert "q" in response.json()["error"]["details"]


@pytest.mark.parametrize("q", ["the", "&|!():*", "'; DROP TABLE x; --", "a" * 200])
def test_search_survives_odd_input(request, data, q):
    response = persona_client(request, "alice").get(SEARCH, {"q": q})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_headlines_escape_the_message_text():
    raw = "<script>alert(1)</script> \x02pricing\x03 & more"
    assert render_headline(raw) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>pricing</mark> &amp; more"
    )


def test_search_headline_of_html_like_body_is_escaped(request, data):
    with staff_scope():
        thread = data.threads["a"][8]
        Message.objects.create(
            organization=thread.organization, thread=thread, campaign=thread.campaign,
            direction=Message.Direction.INBOUND, kind=Message.Kind.REPLY, subject="Hi",
            body_text="<img src=x onerror=alert(1)> budget approved", sent_at="2026-11-20T10:00Z",
        )  # fmt: skip
    (row,) = results(persona_client(request, "alice").get(SEARCH, {"q": "budget"}))
    assert "<img" not in row["headline"]
    assert "<mark>budget</mark>" in row["headline"]
