"""Notifications in the portal and the API: the bell's count, the page, per-user read state,
and another organization's notification answering 404 to every persona."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tenancy import staff_scope
from messaging.models import Notification, NotificationRead
from testkit import (
    PERSONAS,
    expected_status,
    make_campaign,
    make_contact,
    make_notification,
    make_shared_connection,
    make_thread,
    persona_client,
    results,
)

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


@pytest.fixture
def notes(org_a, org_b):
    """Three notifications of org A (one per kind) and one of org B."""
    return {
        "interested": make_notification(org_a, Kind.LEAD_INTERESTED, title="Ann is interested"),
        "meeting": make_notification(org_a, Kind.MEETING_BOOKED, title="Meeting booked with Ben"),
        "other": make_notification(org_a, Kind.OTHER, title="Deal closed with Cy"),
        "b": make_notification(org_b, Kind.LEAD_INTERESTED, title="Bob's lead is interested"),
    }


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bell_shows_each_users_unread_count_on_every_page(alice, victor, bob, notes):
    alice_client = login(alice)
    for url in (reverse("portal:dashboard"), reverse("inbox:list"), reverse("portal:leads")):
        page = alice_client.get(url)
        assert page.context["notifications_unread"]() == 3, url
        assert b"data-bell-count>3<" in page.content
    assert login(bob).get(reverse("portal:dashboard")).context["notifications_unread"]() == 1
    # Alice reading one leaves victor's count alone: read state is per user.
    alice_client.post(reverse("notifications:read", args=[notes["meeting"].pk]))
    assert alice_client.get("/").context["notifications_unread"]() == 2
    assert login(victor).get("/").context["notifications_unread"]() == 3


def test_bell_count_costs_one_query(alice, notes):
    request_client = login(alice)
    request_client.get(reverse("inbox:list"))  # warm the session
    with CaptureQueriesContext(connection) as with_bell:
        request_client.get(reverse("inbox:list"))
    counted = [q["sql"] for q in with_bell.captured_queries if "messaging_notification" in q["sql"]]
    assert len(counted) == 1


def test_page_lists_newest_first_filters_by_kind_and_links_to_the_thread(
    alice, org_a, notes, shared_connection
):
    campaign = make_campaign(shared_connection, "cmp-n", organization=org_a)
    contact = make_contact("ann@example.com", organization=org_a)
    with staff_scope():
        from campaigns.models import Lead  # noqa: PLC0415 - one test needs a lead row

        lead = Lead.objects.create(organization=org_a, campaign=campaign, contact=contact)
    thread = make_thread(campaign, contact, organization=org_a, lead=lead)
    with staff_scope():
        Notification.objects.filter(pk=notes["interested"].pk).update(lead=lead)
    client = login(alice)
    page = client.get(reverse("notifications:list"))
    titles = [n.title for n in page.context["page"].object_list]
    assert titles == ["Deal closed with Cy", "Meeting booked with Ben", "Ann is interested"]
    assert reverse("inbox:thread", args=[thread.pk]).encode() in page.content
    assert b"Bob's lead" not in page.content
    only = client.get(reverse("notifications:list"), {"kind": "meeting_booked"})
    assert [n.title for n in only.context["page"].object_list] == ["Meeting booked with Ben"]


def test_mark_all_read_then_unread_filter_is_empty(alice, victor, notes):
    client = login(alice)
    response = client.post(reverse("notifications:read-all"))
    assert response.status_code == 302
    with staff_scope():
        assert NotificationRead.objects.filter(user=alice).count() == 3
        assert NotificationRead.objects.filter(user=victor).count() == 0
    unread = client.get(reverse("notifications:list"), {"unread": "on"})
    assert list(unread.context["page"].object_list) == []


def test_marking_another_organizations_notification_is_404(alice, notes):
    response = login(alice).post(reverse("notifications:read", args=[notes["b"].pk]))
    assert response.status_code == 404
    with staff_scope():
        assert not NotificationRead.objects.exists()


def test_anonymous_is_sent_to_login(notes):
    response = Client().get(reverse("notifications:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_list_per_persona(request, persona, notes):
    client = persona_client(request, persona)
    response = client.get("/api/v1/notifications/")
    assert response.status_code == expected_status(persona)
    if response.status_code != 200:
        return
    titles = {row["title"] for row in results(response)}
    expected = {
        "alice": {"Ann is interested", "Meeting booked with Ben", "Deal closed with Cy"},
        "victor": {"Ann is interested", "Meeting booked with Ben", "Deal closed with Cy"},
        "bob": {"Bob's lead is interested"},
    }.get(persona, {n.title for n in notes.values()})
    assert titles == expected
    assert all(row["is_read"] is False for row in results(response))


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_mark_one_read_per_persona(request, persona, notes):
    client = persona_client(request, persona)
    response = client.post(f"/api/v1/notifications/{notes['interested'].pk}/read/")
    if persona in ("anonymous", "revoked"):
        assert response.status_code == 401
    elif persona == "charlie":
        assert response.status_code == 403
    elif persona == "bob":
        assert response.status_code == 404  # another organization's: never 403
    else:
        assert response.status_code == 200
        assert response.json()["is_read"] is True
    with staff_scope():
        readers = set(NotificationRead.objects.values_list("user__username", flat=True))
    assert readers == ({persona} if response.status_code == 200 else set())


def test_api_read_all_marks_only_the_callers_own(request, notes, alice):
    client = persona_client(request, "victor")
    response = client.post("/api/v1/notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 3}
    assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"] == []
    alice_view = persona_client(request, "alice").get("/api/v1/notifications/?unread=true")
    assert len(results(alice_view)) == 3
    kind = client.get("/api/v1/notifications/", {"kind": "meeting_booked"})
    assert [row["kind"] for row in results(kind)] == ["meeting_booked"]


@pytest.mark.parametrize("kind", ["\x00", "no_such_kind"])
def test_api_an_unknown_kind_is_a_clear_400_and_marks_nothing(request, notes, kind):
    client = persona_client(request, "alice")
    for response in (
        client.get("/api/v1/notifications/", {"kind": kind}),
        client.post(f"/api/v1/notifications/read-all/?kind={quote(kind)}"),
        client.post(f"/api/v1/notifications/{notes['interested'].pk}/read/?kind={quote(kind)}"),
    ):
        assert response.status_code == 400, response.content
        assert "Unknown kind" in response.content.decode()
    unread = client.get("/api/v1/notifications/", {"unread": "true"})
    assert len(results(unread)) == 3


@pytest.fixture
def shared_connection(db):
    return make_shared_connection()
