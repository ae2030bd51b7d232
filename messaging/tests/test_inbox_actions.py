"""The inbox pages act: opening a thread reads it, a reply is sent from the thread (members),
the draft survives a failure, done hides a thread until the lead writes again, search ranks
and highlights, filters keep across the round trip, and the lead page answers."""

from __future__ import annotations

import pytest
import responses
from django.conf import settings
from django.urls import reverse

from accounts.tenancy import staff_scope
from messaging import recording
from messaging.models import Message, Thread
from testkit import build_org_dataset

pytestmark = pytest.mark.django_db

API = settings.INSTANTLY_API_BASE_URL.rstrip("/") + "/api/v2"


@pytest.fixture
def data_a(org_a):
    return build_org_dataset(org_a, campaigns=2, leads_per_campaign=8, replies_per_campaign=4)


@pytest.fixture
def instantly():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def fresh(thread) -> Thread:
    with staff_scope():
        return Thread.objects.unscoped().get(pk=thread.pk)


def test_opening_a_thread_marks_it_read_for_everyone(client, alice, victor, data_a):
    thread = next(t for t in data_a.threads if t.is_unread)
    client.force_login(victor)
    assert client.get(reverse("inbox:thread", args=[thread.pk])).status_code == 200
    assert not fresh(thread).is_unread


def test_member_replies_from_the_thread_and_sees_it_sent(client, alice, data_a, instantly):
    instantly.add(responses.POST, f"{API}/emails/reply", json={"id": "sent-portal-1"})
    thread = data_a.threads[0]
    client.force_login(alice)
    page = client.get(reverse("inbox:thread", args=[thread.pk]))
    key = page.context["reply_form"].initial["idempotency_key"]
    form = {"body": "Happy to talk on Tuesday.", "idempotency_key": key, "back": "page=1"}
    first = client.post(reverse("inbox:reply", args=[thread.pk]), form)
    again = client.post(reverse("inbox:reply", args=[thread.pk]), form)  # browser resubmit
    assert first.status_code == again.status_code == 302
    assert len(instantly.calls) == 1
    shown = client.get(first["Location"]).content.decode()
    assert "Happy to talk on Tuesday." in shown and "Sent" in shown


def test_a_failed_reply_keeps_the_draft_and_says_why(client, alice, data_a, instantly):
    instantly.add(
        responses.POST, f"{API}/emails/reply", json={"message": "Invalid key"}, status=401
    )
    thread = data_a.threads[0]
    client.force_login(alice)
    response = client.post(
        reverse("inbox:reply", args=[thread.pk]),
        {"body": "Words I must not lose", "idempotency_key": "portal-fail-1"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Authorisation" in page
    assert response.context["reply_form"].initial["body"] == "Words I must not lose"
    assert response.context["reply_form"].initial["idempotency_key"] != "portal-fail-1"


def test_a_viewer_gets_no_reply_box_and_cannot_post(client, victor, data_a, instantly):
    thread = data_a.threads[0]
    client.force_login(victor)
    page = client.get(reverse("inbox:thread", args=[thread.pk]))
    assert page.context["reply_form"] is None and 'id="reply"' not in page.content.decode()
    response = client.post(
        reverse("inbox:reply", args=[thread.pk]), {"body": "x", "idempotency_key": "viewer-01"}
    )
    assert response.status_code == 403 and not instantly.calls


def test_another_organizations_thread_cannot_be_answered(client, bob, data_a, instantly):
    client.force_login(bob)
    response = client.post(
        reverse("inbox:reply", args=[data_a.threads[0].pk]),
        {"body": "x", "idempotency_key": "other-org-1"},
    )
    assert response.status_code == 404 and not instantly.calls


def test_done_hides_the_thread_until_the_lead_writes_again(client, alice, data_a):
    thread = data_a.threads[0]
    client.force_login(alice)
    client.post(reverse("inbox:done", args=[thread.pk]), {"done": "1"})
    listed = [t.pk for t in client.get(reverse("inbox:list")).context["page"].object_list]
    assert thread.pk not in listed
    done = client.get(reverse("inbox:list"), {"state": "done"}).context["page"].object_list
    assert [t.pk for t in done] == [thread.pk]
    change = recording.ThreadChange()
    change.add(fresh(thread).last_message_at, inbound=True, reply=True, subject="")
    with staff_scope():
        recording.update_threads({thread.pk: change})
    assert fresh(thread).done_at is None


def test_awaiting_our_reply_lists_threads_whose_last_message_is_inbound(client, alice, data_a):
    client.force_login(alice)
    listed = client.get(reverse("inbox:list"), {"state": "awaiting"}).context["page"].object_list
    assert listed and all(t.last_inbound_at >= t.last_message_at for t in listed)


def test_search_ranks_and_highlights(client, alice, data_a):
    client.force_login(alice)
    with staff_scope():
        word = (
            Message.objects.unscoped()
            .filter(organization=data_a.organization, direction="inbound")
            .first()
            .body_text.split()[0]
            .strip(",.!")
        )
    response = client.get(reverse("inbox:list"), {"q": word})
    rows = response.context["page"].object_list
    assert rows and all("<mark>" in t.headline for t in rows)
    ranks = [t.rank for t in rows]
    assert ranks == sorted(ranks, reverse=True)


def test_back_to_the_inbox_keeps_filters_and_page(client, alice, data_a):
    client.force_login(alice)
    listing = client.get(reverse("inbox:list"), {"state": "all", "page": "1"})
    thread = listing.context["page"].object_list[0]
    assert "back=state%3Dall%26page%3D1" in listing.content.decode()
    page = client.get(reverse("inbox:thread", args=[thread.pk]), {"back": "state=all&page=1"})
    assert 'href="/inbox/?state=all&amp;page=1"' in page.content.decode()


def test_the_lead_page_explains_status_and_lists_campaigns_and_threads(client, alice, bob, data_a):
    lead = next(t.lead for t in data_a.threads if t.lead_id)
    client.force_login(alice)
    page = client.get(reverse("portal:lead", args=[lead.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert lead.contact.email in text and "Conversations" in text
    assert page.context["status_explanation"]
    client.force_login(bob)
    assert client.get(reverse("portal:lead", args=[lead.pk])).status_code == 404


def test_interest_is_set_from_the_lead_page(client, alice, victor, data_a, instantly):
    instantly.add(responses.POST, f"{API}/leads/update-interest-status", json={"message": "ok"})
    lead = next(t.lead for t in data_a.threads if t.lead_id)
    client.force_login(victor)
    refused = client.post(
        reverse("portal:lead-interest", args=[lead.pk]), {"interest_status": "closed"}
    )
    assert refused.status_code == 403 and not instantly.calls
    client.force_login(alice)
    client.post(
        reverse("portal:lead-interest", args=[lead.pk]), {"interest_status": "meeting_booked"}
    )
    with staff_scope():
        lead.refresh_from_db()
    assert lead.interest_status == "meeting_booked" and len(instantly.calls) == 1
