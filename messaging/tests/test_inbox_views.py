"""The unified inbox: reply threads only, newest first, filters, a whole conversation, read state,
and another organization's thread answering 404 to every persona."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import Contact, InterestStatus
from messaging.models import Message, Thread
from testkit import build_org_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_a(org_a):
    return build_org_dataset(org_a, campaigns=3, leads_per_campaign=10, replies_per_campaign=4)


@pytest.fixture
def data_b(org_b, data_a):
    return build_org_dataset(org_b, campaigns=1, leads_per_campaign=6, replies_per_campaign=3)


@pytest.fixture
def silent_thread(org_a, data_a):
    """A thread of org A that got no reply: the inbox must not list it."""
    with staff_scope():
        contact = Contact.objects.create(organization=org_a, email="silent@example.com")
        return Thread.objects.create(
            organization=org_a,
            campaign=data_a.campaigns[0],
            contact=contact,
            subject="Nobody answered",
            has_reply=False,
            last_message_at=timezone.now(),
        )


def thread_pks(response) -> list[int]:
    return [t.pk for t in response.context["page"].object_list]


def read_state(thread) -> bool:
    with staff_scope():
        return Thread.objects.get(pk=thread.pk).is_unread


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["inbox:list", "inbox:thread"])
def test_anonymous_is_sent_to_login(client, data_a, name):
    args = [data_a.threads[0].pk] if name == "inbox:thread" else []
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_cannot_mark_read(client, data_a):
    thread = data_a.threads[0]
    response = client.post(reverse("inbox:mark-read", args=[thread.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["alice", "victor"])
def test_members_see_their_reply_threads_newest_first(
    client, request, persona, data_a, data_b, silent_thread
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("inbox:list"))
    assert response.status_code == 200
    listed = thread_pks(response)
    assert set(listed) == {t.pk for t in data_a.threads}
    assert silent_thread.pk not in listed
    with staff_scope():
        newest_first = list(
            Thread.objects.filter(pk__in=listed)
            .order_by("-last_inbound_at", "-pk")
            .values_list("pk", flat=True)
        )
    assert listed == newest_first
    page = response.content.decode()
    for thread in data_b.threads:
        assert f'href="{reverse("inbox:thread", args=[thread.pk])}"' not in page
        assert thread.contact.email not in page


def test_member_of_other_org_sees_only_their_threads(client, bob, data_a, data_b):
    client.force_login(bob)
    assert set(thread_pks(client.get(reverse("inbox:list")))) == {t.pk for t in data_b.threads}


@pytest.mark.parametrize("name", ["inbox:list", "inbox:thread"])
def test_user_without_organization_sees_the_empty_page(client, charlie, data_a, name):
    thread = data_a.threads[0]
    client.force_login(charlie)
    response = client.get(reverse(name, args=[thread.pk] if name == "inbox:thread" else []))
    page = response.content.decode()
    assert "not part of an organization yet" in page
    assert thread.subject not in page


def test_staff_see_the_inbox_of_the_organization_they_view(client, olga, org_b, data_a, data_b):
    client.force_login(olga)
    client.post(reverse("switch_organization"), {"organization_id": str(org_b.pk)})
    assert set(thread_pks(client.get(reverse("inbox:list")))) == {t.pk for t in data_b.threads}
    foreign = data_a.threads[0]
    assert client.get(reverse("inbox:thread", args=[foreign.pk])).status_code == 404


def test_another_organizations_thread_answers_404(client, alice, bob, data_a, data_b):
    client.force_login(alice)
    foreign = data_b.threads[0]
    assert client.get(reverse("inbox:thread", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("inbox:thread", args=[999_999])).status_code == 404
    client.force_login(bob)
    assert client.get(reverse("inbox:thread", args=[data_a.threads[0].pk])).status_code == 404


# --- Filters and pagination -------------------------------------------------------------------


def test_filter_by_campaign(client, alice, data_a):
    client.force_login(alice)
    campaign = data_a.campaigns[1]
    listed = thread_pks(client.get(reverse("inbox:list"), {"campaign": str(campaign.pk)}))
    assert set(listed) == {t.pk for t in data_a.threads if t.campaign_id == campaign.pk}


def test_filter_by_interest_status(client, alice, data_a):
    client.force_login(alice)
    response = client.get(reverse("inbox:list"), {"interest": InterestStatus.INTERESTED})
    listed = thread_pks(response)
    expected = {t.pk for t in data_a.threads if t.lead.interest_status == InterestStatus.INTERESTED}
    assert listed and set(listed) == expected


def test_filter_unread_only(client, alice, data_a):
    client.force_login(alice)
    listed = thread_pks(client.get(reverse("inbox:list"), {"unread": "on"}))
    assert set(listed) == {t.pk for t in data_a.threads if t.is_unread}


def test_campaign_of_another_org_is_not_a_valid_filter(client, alice, data_a, data_b):
    client.force_login(alice)
    response = client.get(reverse("inbox:list"), {"campaign": str(data_b.campaigns[0].pk)})
    assert response.context["form"].errors
    assert set(thread_pks(response)) == {t.pk for t in data_a.threads}


def test_unread_threads_are_marked_in_the_list(client, alice, data_a):
    client.force_login(alice)
    page = client.get(reverse("inbox:list")).content.decode()
    unread = sum(1 for t in data_a.threads if t.is_unread)
    assert page.count('class="thread-row unread"') == unread
    assert f'title="{unread} unread"' in page  # the navigation's counter


def test_inbox_is_paginated(client, alice, org_a):
    build_org_dataset(org_a, campaigns=2, leads_per_campaign=20, replies_per_campaign=15)
    client.force_login(alice)
    first = client.get(reverse("inbox:list")).context["page"]
    assert first.paginator.count == 30 and len(first.object_list) == 25
    second = client.get(reverse("inbox:list"), {"page": 2}).context["page"]
    assert len(second.object_list) == 5
    assert not {t.pk for t in first.object_list} & {t.pk for t in second.object_list}


def test_inbox_query_count_does_not_grow_with_threads(client, alice, org_a, data_a):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("inbox:list"))
    build_org_dataset(org_a, campaigns=2, leads_per_campaign=20, replies_per_campaign=12, seed=3)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("inbox:list"))
    # 14: the page's own queries plus the notification bell's one.
    assert len(small.captured_queries) == len(large.captured_queries) <= 14


# --- A conversation ---------------------------------------------------------------------------


def test_thread_shows_whole_conversation_oldest_first(client, victor, data_a):
    thread = data_a.threads[0]
    client.force_login(victor)
    response = client.get(reverse("inbox:thread", args=[thread.pk]))
    assert response.status_code == 200
    conversation = list(response.context["conversation"])
    with staff_scope():
        stored = Message.objects.filter(thread=thread).count()
    assert len(conversation) == stored >= 2
    assert [m.sent_at for m in conversation] == sorted(m.sent_at for m in conversation)
    page = response.content.decode()
    assert 'class="message inbound"' in page and 'class="message outbound"' in page


def test_thread_never_renders_stored_html(client, alice, org_a, data_a):
    thread = data_a.threads[0]
    with staff_scope():
        Message.objects.create(
            organization=org_a,
            thread=thread,
            campaign=thread.campaign,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.REPLY,
            body_html='<p>Hello</p><script>alert("x")</script><img src=x onerror=alert(1)>',
            sent_at=timezone.now() + dt.timedelta(minutes=1),
        )
    client.force_login(alice)
    page = client.get(reverse("inbox:thread", args=[thread.pk])).content.decode()
    assert "<script>alert" not in page and "onerror=alert" not in page
    assert "Hello" in page


def test_thread_query_count_is_bounded(client, alice, data_a):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("inbox:thread", args=[data_a.threads[0].pk]))
    assert len(ctx.captured_queries) <= 13  # with the notification bell's query


# --- Read state -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "victor", "olga"])
def test_members_and_staff_mark_a_thread_read_and_unread(client, request, persona, org_a, data_a):
    """Viewers too: read state is triage of the inbox, not a change to synced data."""
    user = request.getfixturevalue(persona)
    client.force_login(user)
    if persona == "olga":
        client.post(reverse("switch_organization"), {"organization_id": str(org_a.pk)})
    thread = data_a.threads[0]
    response = client.post(reverse("inbox:mark-read", args=[thread.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:thread", args=[thread.pk])
    assert read_state(thread) is False
    with staff_scope():
        assert not Message.objects.filter(thread=thread, is_unread=True).exists()
    client.post(reverse("inbox:mark-unread", args=[thread.pk]))
    assert read_state(thread) is True


def test_marking_read_returns_to_a_safe_next_url(client, alice, data_a):
    client.force_login(alice)
    thread = data_a.threads[0]
    response = client.post(reverse("inbox:mark-read", args=[thread.pk]), {"next": "/inbox/?page=1"})
    assert response["Location"] == "/inbox/?page=1"
    response = client.post(
        reverse("inbox:mark-read", args=[thread.pk]), {"next": "https://evil.example.com/"}
    )
    assert response["Location"] == reverse("inbox:thread", args=[thread.pk])


def test_marking_read_needs_post(client, alice, data_a):
    client.force_login(alice)
    thread = data_a.threads[0]
    with staff_scope():
        Thread.objects.filter(pk=thread.pk).update(is_unread=True)
    assert client.get(reverse("inbox:mark-read", args=[thread.pk])).status_code == 405
    assert read_state(thread) is True


def test_marking_read_needs_the_csrf_token(alice, data_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    thread = data_a.threads[0]
    with staff_scope():
        Thread.objects.filter(pk=thread.pk).update(is_unread=True)
    assert client.post(reverse("inbox:mark-read", args=[thread.pk])).status_code == 403
    assert read_state(thread) is True


def test_another_org_cannot_mark_my_thread(client, bob, data_a, data_b):
    thread = data_a.threads[0]
    with staff_scope():
        Thread.objects.filter(pk=thread.pk).update(is_unread=True)
    client.force_login(bob)
    assert client.post(reverse("inbox:mark-read", args=[thread.pk])).status_code == 404
    assert read_state(thread) is True


def test_custom_interest_labels_cost_no_query_per_thread(client, alice, org_a, data_a):
    """The badge shows a custom label's name; it comes with the list, not one query a row."""
    client.force_login(alice)
    with CaptureQueriesContext(connection) as plain:
        client.get(reverse("inbox:list"))
    with staff_scope():
        for thread in Thread.objects.filter(organization=org_a, lead__isnull=False):
            thread.lead.interest_status = InterestStatus.CUSTOM
            thread.lead.interest_label = f"Label {thread.pk}"
            thread.lead.save(update_fields=["interest_status", "interest_label"])
    with CaptureQueriesContext(connection) as labelled:
        page = client.get(reverse("inbox:list")).content.decode()
    assert "Label " in page
    assert len(labelled.captured_queries) == len(plain.captured_queries)


def test_search_finds_threads_through_the_index_not_a_per_thread_rank_filter(client, alice, data_a):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("inbox:list"), {"q": "idea"})
    assert response.status_code == 200
    listing = next(
        q["sql"] for q in ctx.captured_queries if "ts_rank" in q["sql"] and "LIMIT" in q["sql"]
    )
    # Matching threads are one `thread_id IN (SELECT ...)`; the rank is not a filter.
    assert '"messaging_thread"."id" IN (SELECT' in listing
    assert "IS NOT NULL" not in listing.split("ORDER BY")[0].split("WHERE", 1)[1]
