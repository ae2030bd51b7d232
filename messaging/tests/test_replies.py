"""Replying from a thread through the API: sent once per compose (double submit, concurrent
requests), each Instantly failure class in plain words with the draft kept, viewers refused,
another organization's thread absent, and Instantly's own copy merging into the reply."""

from __future__ import annotations

import json
import threading
import time

import pytest
import responses
from django.conf import settings
from django.db import connections

from accounts.tenancy import staff_scope
from messaging import recording
from messaging.models import Message, Thread
from testkit import build_dataset, persona_client

REPLY_URL = f"{settings.INSTANTLY_API_BASE_URL.rstrip('/')}/api/v2/emails/reply"


@pytest.fixture
def data(org_a, org_b, shared_connection):
    return build_dataset(org_a, org_b, shared_connection)


@pytest.fixture
def thread(data):
    """A thread of organization A in which the lead replied."""
    return data.threads["a"][0]


@pytest.fixture
def instantly():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def sent_ok(mock, email_id="sent-email-1"):
    mock.add(responses.POST, REPLY_URL, json={"id": email_id, "thread_id": "t-1"}, status=200)


def url(thread) -> str:
    return f"/api/v1/threads/{thread.pk}/reply/"


def replies_with_key(key) -> list[Message]:
    with staff_scope():
        return list(Message.objects.unscoped().filter(idempotency_key=key))


@pytest.mark.django_db
def test_reply_is_sent_through_instantly_from_the_receiving_mailbox(request, thread, instantly):
    sent_ok(instantly)
    client = persona_client(request, "alice")
    response = client.post(
        url(thread), {"body": "Thanks!\n\nHere is **the** link.", "idempotency_key": "k-00000001"}
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "sent" and body["instantly_email_id"] == "sent-email-1"
    assert (
        body["direction"] == "outbound" and body["sent_by"] == request.getfixturevalue("alice").pk
    )
    sent = json.loads(instantly.calls[0].request.body)
    assert sent["reply_to_uuid"] == f"em-a-{thread.pk}"
    assert sent["eaccount"] == "sender-a@mail.io"
    assert sent["subject"] == "Re: pipeline"
    assert sent["body"]["html"] == "<p>Thanks!</p><p>Here is <strong>the</strong> link.</p>"
    with staff_scope():
        refreshed = Thread.objects.unscoped().get(pk=thread.pk)
    assert refreshed.message_count == thread.message_count + 1
    assert not refreshed.awaits_our_reply


@pytest.mark.django_db
def test_double_submit_with_one_key_sends_once_and_answers_the_same_message(
    request, thread, instantly
):
    sent_ok(instantly)
    client = persona_client(request, "alice")
    payload = {"body": "Sure, Tuesday works.", "idempotency_key": "k-double-1"}
    first = client.post(url(thread), payload)
    second = client.post(url(thread), payload)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert len(instantly.calls) == 1
    assert len(replies_with_key("k-double-1")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_send_once(request, thread):
    calls = []

    def slow_instantly(req):
        calls.append(req)
        # Hold the first request inside its transaction so that the second one reaches the
        # unique index while the first row is not committed yet.
        time.sleep(0.5)
        return 200, {}, json.dumps({"id": "sent-concurrent"})

    clients = [persona_client(request, "alice") for _ in range(2)]
    answers = []
    start = threading.Barrier(2)

    def post(client):
        start.wait()
        try:
            answers.append(
                client.post(url(thread), {"body": "Once only", "idempotency_key": "k-concurrent"})
            )
        finally:
            connections.close_all()  # this thread's own database connection

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, REPLY_URL, callback=slow_instantly)
        workers = [threading.Thread(target=post, args=(c,)) for c in clients]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert [a.status_code for a in answers] == [202, 202]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(calls) == 1
    assert len(replies_with_key("k-concurrent")) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "answer", "words"),
    [
        (402, {"message": "Payment required"}, "Quota"),
        (401, {"message": "Invalid API key"}, "Authorisation"),
        (400, {"message": "eaccount not found in workspace"}, "Mailbox disconnected"),
        (429, {"message": "Rate limit exceeded"}, "Rate limited"),
    ],
)
def test_each_failure_is_explained_and_the_draft_kept(
    request, thread, instantly, status, answer, words
):
    instantly.add(responses.POST, REPLY_URL, json=answer, status=status)
    client = persona_client(request, "alice")
    response = client.post(
        url(thread), {"body": "My careful draft", "idempotency_key": "k-failure-1"}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "failed"
    assert body["failure_reason"].startswith(words)
    assert body["body_text"] == "My careful draft"
    assert len(instantly.calls) == 1  # one attempt: a person is waiting, and no double send


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "expected"), [("victor", 403), ("bob", 404)])
def test_viewer_is_refused_and_another_organization_sees_no_thread(
    request, thread, instantly, persona, expected
):
    client = persona_client(request, persona)
    response = client.post(url(thread), {"body": "Hello", "idempotency_key": "k-refused"})
    assert response.status_code == expected
    assert response.json()["error"]["code"] in ("permission_denied", "not_found")
    assert not instantly.calls and not replies_with_key("k-refused")


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "expected"), [("anonymous", 401), ("revoked", 401)])
def test_anonymous_and_revoked_tokens_cannot_reply(request, thread, instantly, persona, expected):
    response = persona_client(request, persona).post(
        url(thread), {"body": "Hello", "idempotency_key": "k-anon-01"}
    )
    assert response.status_code == expected and not instantly.calls


@pytest.mark.django_db
def test_a_thread_with_nothing_received_cannot_be_answered(request, data, instantly):
    silent = data.threads["a"][5]  # no reply from the lead in this one
    response = persona_client(request, "alice").post(
        url(silent), {"body": "Hello?", "idempotency_key": "k-silent-1"}
    )
    assert response.status_code == 400 and not instantly.calls


@pytest.mark.django_db
def test_instantlys_copy_of_the_reply_merges_into_it(request, data, thread, instantly):
    sent_ok(instantly, "sent-merge-1")
    persona_client(request, "alice").post(
        url(thread), {"body": "Merged once", "idempotency_key": "k-merge-1"}
    )
    event = data.events["a"][0]
    with staff_scope():
        before = Message.objects.unscoped().filter(thread=thread).count()
        new = recording.record_messages(
            [
                {
                    "organization_id": thread.organization_id,
                    "thread_id": thread.pk,
                    "campaign_id": thread.campaign_id,
                    "contact_id": thread.contact_id,
                    "direction": Message.Direction.OUTBOUND,
                    "kind": Message.Kind.MANUAL,
                    "instantly_email_id": "sent-merge-1",
                    "subject": "Re: pipeline",
                    "body_text": "Merged once",
                    "sent_at": thread.last_message_at,
                    "source_event_id": event.pk,
                }
            ]
        )
        reply = Message.objects.unscoped().get(idempotency_key="k-merge-1")
        assert Message.objects.unscoped().filter(thread=thread).count() == before
    assert new == {}  # counted when written, not again (new messages by event: none)
    assert reply.source_event_id == event.pk and reply.status == Message.Status.SENT


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["olga", "adam"])
def test_staff_reply_in_a_customers_thread_and_are_recorded_as_the_sender(
    request, thread, instantly, persona
):
    """Agency staff (sb_operator, sb_admin) answer for a customer; the reply says who wrote it."""
    sent_ok(instantly, email_id=f"sent-by-{persona}")
    key = f"k-staff-{persona}"
    response = persona_client(request, persona).post(
        url(thread), {"body": "Happy to help.", "idempotency_key": key}
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "sent"
    [message] = replies_with_key(key)
    assert message.sent_by.username == persona
    assert message.organization_id == thread.organization_id
    assert message.instantly_email_id == f"sent-by-{persona}"
    assert len(instantly.calls) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["olga", "adam"])
def test_staff_reply_with_one_key_twice_sends_once(request, thread, instantly, persona):
    sent_ok(instantly)
    client = persona_client(request, persona)
    payload = {"body": "Once only.", "idempotency_key": f"k-twice-{persona}"}
    first, second = client.post(url(thread), payload), client.post(url(thread), payload)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    assert len(instantly.calls) == 1
