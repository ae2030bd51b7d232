"""Replies are categorised as webhook processing records them, in the same transaction, and
the category sets things in motion: the thread's category, a notification, a proposed interest
status, the do-not-contact flag, the lead's score. Also the backfill of older messages."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from django.core.management import call_command

from accounts.tenancy import staff_scope, tenant_scope
from campaigns.models import InterestStatus, Lead
from instantly.webhooks import queue
from instantly.webhooks.ingest import store_delivery
from messaging.models import FeedEvent, Message, Notification, ReplySettings, Thread
from messaging.scoring import store as scoring
from messaging.tasks import decay_lead_scores
from testkit import make_connection

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LEAD = "maya.patel@bluepeak-analytics.example"
BASE = {
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": "0195a3c2-7d0e-7a31-9b1e-3c6f5d2a8e01",
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": "sam@salesbrain-mail.example",
    "step": 1,
    "variant": 1,
    "firstName": "Maya",
    "lastName": "Patel",
}
PITCH = "On Mon, 2 Mar 2026 at 09:15, Sam <sam@salesbrain-mail.example> wrote:\n> Hi Maya, a call?"


def reply(text: str, *, at="2026-03-02T11:20:05.000Z", email_id="e-1", kind="reply_received",
          subject="Re: Maya, quick question", html="") -> dict:  # fmt: skip
    return {
        **copy.deepcopy(BASE), "event_type": kind, "timestamp": at, "email_id": email_id,
        "reply_subject": subject, "reply_text": text, "reply_html": html,
    }  # fmt: skip


def activity(kind: str, at: str) -> dict:
    return {**copy.deepcopy(BASE), "event_type": kind, "timestamp": at}


@pytest.fixture
def workspace(org_a):
    return make_connection("Acme workspace", organization=org_a, workspace_id="ws-a")


def deliver_and_process(connection, *payloads, now=NOW):
    for payload in payloads:
        store_delivery(connection, payload, received_at=now)
    return queue.drain(now=now)


def test_a_reply_is_stored_with_its_category_and_the_thread_shows_it(org_a, workspace):
    deliver_and_process(
        workspace, reply(f"Happy to talk. Are you free Thursday at 3pm?\n\n{PITCH}")
    )
    with tenant_scope(org_a.pk):
        message = Message.objects.get()
        thread = Thread.objects.get()
    assert message.category == "meeting_request"
    assert 0.5 < message.category_confidence <= 1.0
    assert message.category_source == "model"
    assert message.categorised_at == NOW
    assert (thread.category, thread.category_confidence) == (
        "meeting_request", message.category_confidence,
    )  # fmt: skip


def test_an_absence_notice_gives_its_return_date(org_a, workspace):
    deliver_and_process(workspace, reply(
        "I am out of the office until 9 March and will reply on my return.",
        kind="auto_reply_received", subject="Automatic reply: quick question",
    ))  # fmt: skip
    with tenant_scope(org_a.pk):
        message, thread = Message.objects.get(), Thread.objects.get()
    assert (message.category, message.category_source) == ("out_of_office", "rule")
    assert message.returns_on == thread.returns_on == dt.date(2026, 3, 9)


def test_the_thread_keeps_its_latest_replys_category(org_a, workspace):
    deliver_and_process(
        workspace,
        reply("Not interested, thanks.", at="2026-03-02T11:00:00Z", email_id="e-1"),
        reply(
            "Sorry, ignore that - yes please, we'd like to go ahead.",
            at="2026-03-02T11:30:00Z",
            email_id="e-2",
        ),  # fmt: skip
    )
    with tenant_scope(org_a.pk):
        assert Thread.objects.get().category == "interested"


def test_positive_replies_notify_unless_the_organization_turned_it_off(org_a, org_b, workspace):
    deliver_and_process(workspace, reply("Sounds great, we're interested. Let's go ahead."))
    with tenant_scope(org_a.pk):
        note = Notification.objects.get()
    assert (note.kind, note.title) == ("reply_interested", "Maya Patel replied: interested")
    other = make_connection("Bluebird workspace", organization=org_b, workspace_id="ws-b")
    with staff_scope():
        ReplySettings.objects.create(organization=org_b, notify_positive_replies=False)
    deliver_and_process(other, reply("Sounds great, we're interested. Let's go ahead."))
    with tenant_scope(org_b.pk):
        assert not Notification.objects.exists()


def test_reprocessing_a_reply_notifies_once(org_a, workspace):
    deliver_and_process(workspace, reply("Yes, we're keen - let's go ahead."))
    with staff_scope():
        queue.process_events(list(Message.objects.values_list("source_event_id", flat=True)),
                             now=NOW)  # fmt: skip
    with tenant_scope(org_a.pk):
        assert Notification.objects.count() == 1


def test_a_blank_interest_gets_a_proposal_a_set_one_is_left_alone(org_a, workspace):
    deliver_and_process(workspace, reply("Thanks, but we're not interested."))
    with tenant_scope(org_a.pk):
        lead = Lead.objects.get()
    assert (lead.interest_status, lead.proposed_interest_status) == ("", "not_interested")

    deliver_and_process(workspace, activity("lead_interested", "2026-03-02T12:00:00Z"),
                        reply("What does it cost?", at="2026-03-02T12:10:00Z", email_id="e-2"))  # fmt: skip
    with tenant_scope(org_a.pk):
        lead = Lead.objects.get()
    assert lead.interest_status == InterestStatus.INTERESTED  # Instantly's choice stays
    assert lead.proposed_interest_status == "not_interested"  # not moved: not blank any more


def test_do_not_contact_flags_the_lead_and_zeroes_its_score(org_a, workspace):
    deliver_and_process(
        workspace, activity("email_opened", "2026-03-02T10:00:00Z"),
        activity("email_link_clicked", "2026-03-02T10:01:00Z"),
    )  # fmt: skip
    with tenant_scope(org_a.pk):
        assert Lead.objects.get().score == 7
    deliver_and_process(workspace, reply("Please remove me from your list. Do not email me again."))
    with tenant_scope(org_a.pk):
        lead = Lead.objects.get()
    assert lead.do_not_contact and lead.score == 0
    assert lead.score_value > 0  # the history is kept: an undo brings the score back


def test_replies_score_by_their_category(org_a, workspace):
    deliver_and_process(
        workspace, activity("email_opened", "2026-03-02T10:00:00Z"),
        reply("Sounds great, we're interested. Let's go ahead.", at="2026-03-02T11:00:00Z"),
        now=dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC),
    )  # fmt: skip
    with tenant_scope(org_a.pk):
        lead = Lead.objects.get()
    # +2 opened an hour before (·½^(1/336)), +30 replied interested
    assert lead.score == 32
    assert lead.score_counts == {"opened": 1}


def test_the_backlog_command_categorises_older_messages(org_a, workspace):
    deliver_and_process(workspace, reply("Please unsubscribe me."))
    with staff_scope():
        Message.objects.unscoped().update(category="", category_confidence=None)
        Lead.objects.unscoped().update(do_not_contact=False)
    call_command("categorise_inbox")
    with tenant_scope(org_a.pk):
        assert Message.objects.get().category == "do_not_contact"
        assert Lead.objects.get().do_not_contact
        assert not Notification.objects.exists()


# --- scores: incremental = recomputation, decay -------------------------------------------------

REPLY_TEXTS = [
    "Sounds great, we're interested. Let's go ahead.",
    "Could we have a call on Thursday at 3pm?",
    "What does it cost per month?",
    "Not interested, thanks.",
    "I'm not the right person, please contact jane@bluepeak.example.",
]


def scripted_history(seed: int) -> list[dict]:
    """Opens, clicks, replies and meetings of three leads over three weeks, shuffled."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
    payloads = []
    for n in range(45):
        email = f"lead{n % 3}@bluepeak-analytics.example"
        at = (start + dt.timedelta(minutes=rng.randint(0, 20 * 24 * 60))).isoformat()
        kind = rng.choice(["email_opened"] * 4 + ["email_link_clicked"] * 2 + ["reply"] * 2
                          + ["lead_meeting_booked"])  # fmt: skip
        if kind == "reply":
            payload = reply(rng.choice(REPLY_TEXTS), at=at, email_id=f"e-{n}")
        else:
            payload = activity(kind, at)
        payload.update(lead_email=email, email=email)
        payloads.append(payload)
    rng.shuffle(payloads)  # deliveries arrive out of order, in several batches
    return payloads


def score_states() -> dict[str, tuple]:
    with staff_scope():
        return {
            lead.contact.email: (lead.score_value, lead.score_at, lead.score_counts, lead.score)
            for lead in Lead.objects.unscoped().select_related("contact")
        }


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_scores_equal_a_full_recomputation(org_a, workspace, seed):
    payloads = scripted_history(seed)
    for i in range(0, len(payloads), 10):
        deliver_and_process(workspace, *payloads[i : i + 10], now=NOW)
    incremental = score_states()
    with staff_scope():
        assert scoring.recompute_scores(NOW) == 0  # nothing to correct
        Lead.objects.unscoped().update(score_value=0, score_at=None, score_counts={}, score=0)
        assert scoring.recompute_scores(NOW) == 3  # rebuilt from the events alone
    recomputed = score_states()
    assert set(incremental) == set(recomputed) and len(incremental) == 3
    for email, (value, at, counts, score) in incremental.items():
        r_value, r_at, r_counts, r_score = recomputed[email]
        assert value == pytest.approx(r_value, rel=1e-9, abs=1e-9), email
        assert (at, counts, score) == (r_at, r_counts, r_score), email


def test_the_decay_pass_halves_scores_every_half_life(org_a, workspace):
    deliver_and_process(workspace, reply("Sounds great, we're interested. Let's go ahead.",
                                         at="2026-03-02T11:00:00Z"),
                        now=dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC))  # fmt: skip
    with staff_scope():
        assert Lead.objects.unscoped().get().score == 30
        assert scoring.decay_scores(dt.datetime(2026, 3, 16, 11, 0, tzinfo=dt.UTC)) == 1
        assert Lead.objects.unscoped().get().score == 15
        ReplySettings.objects.create(organization=org_a, score_half_life_days=7)
        scoring.decay_scores(dt.datetime(2026, 3, 16, 11, 0, tzinfo=dt.UTC))
        assert Lead.objects.unscoped().get().score == 8  # 30 · ½² = 7.5, rounded half up
        Lead.objects.unscoped().update(status="bounced")
        scoring.decay_scores(dt.datetime(2026, 3, 16, 11, 0, tzinfo=dt.UTC))
        assert Lead.objects.unscoped().get().score == 0


def test_the_decay_task_runs_the_pass(org_a, workspace):
    deliver_and_process(workspace, reply("Yes please, let's go ahead.", at="2026-03-02T11:00:00Z"))
    with staff_scope():
        Lead.objects.unscoped().update(score=99)
    assert decay_lead_scores() == 1
    with staff_scope():
        assert Lead.objects.unscoped().get().score < 99


def test_the_live_feed_line_of_a_reply_says_its_category(org_a, workspace):
    deliver_and_process(workspace, reply("Happy to talk. Are you free Thursday at 3pm?"))
    with tenant_scope(org_a.pk):
        line = FeedEvent.objects.get(kind=FeedEvent.Kind.REPLY)
    assert line.detail.startswith("SaaS founders EU · Meeting request ")
    assert line.detail.endswith("%")
