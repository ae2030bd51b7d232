"""Do-not-contact replies: the lead is unsubscribed and its address goes on the workspace's
Instantly block list, once (`responses` fakes Instantly); staff can undo it; organizations
choose whether, and from what confidence."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import responses
from django.conf import settings
from django.contrib.admin.sites import site
from django.test import RequestFactory

from accounts.tenancy import staff_scope
from campaigns.models import Lead, LeadStatus
from instantly import blocklist
from instantly.admin import BlocklistActionAdmin
from instantly.models import BlocklistAction
from instantly.webhooks import queue
from instantly.webhooks.ingest import store_delivery
from messaging import reply_categories
from messaging.models import Message, ReplySettings
from testkit import make_connection

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LEAD = "maya.patel@bluepeak-analytics.example"
ENTRIES = settings.INSTANTLY_API_BASE_URL.rstrip("/") + "/api/v2/block-lists-entries"
ENTRY = {"id": "019cc043-af58-72fa-8f1d-436195867640", "bl_value": LEAD, "is_domain": False,
         "organization_id": "019cc043-af58-72fa-8f1d-4362b85d576c",
         "timestamp_created": "2026-03-02T12:00:01.000Z"}  # fmt: skip
REMOVE_ME = "Please remove me from your list and do not email me again."


def reply(text: str, email_id: str = "e-1", at: str = "2026-03-02T11:20:05.000Z") -> dict:
    return {
        "event_type": "reply_received", "timestamp": at, "email_id": email_id,
        "workspace": "0195a3c0-1111-7000-8000-000000000001",
        "campaign_id": "0195a3c2-7d0e-7a31-9b1e-3c6f5d2a8e01", "campaign_name": "SaaS EU",
        "lead_email": LEAD, "email": LEAD, "email_account": "sam@salesbrain-mail.example",
        "reply_subject": "Re: quick question", "reply_text": text,
    }  # fmt: skip


@pytest.fixture
def workspace(org_a):
    return make_connection("Acme workspace", organization=org_a, workspace_id="ws-a")


@pytest.fixture
def process(django_capture_on_commit_callbacks):
    """Store and process deliveries; what runs on commit (the block-list task) runs too."""

    def run(connection, *payloads):
        with django_capture_on_commit_callbacks(execute=True):
            for payload in payloads:
                store_delivery(connection, copy.deepcopy(payload), received_at=NOW)
            queue.drain(now=NOW)

    return run


def lead() -> Lead:
    with staff_scope():
        return Lead.objects.unscoped().get()


def actions() -> list[BlocklistAction]:
    with staff_scope():
        return list(BlocklistAction.objects.unscoped().order_by("pk"))


@responses.activate
def test_do_not_contact_unsubscribes_the_lead_and_blocks_the_address_once(workspace, process):
    responses.post(ENTRIES, json=ENTRY)
    process(workspace, reply(REMOVE_ME))
    process(workspace, reply("Again: stop emailing me. Unsubscribe.", email_id="e-2",
                             at="2026-03-02T11:40:00.000Z"))  # fmt: skip
    assert len(responses.calls) == 1
    assert json.loads(responses.calls[0].request.body) == {"bl_value": LEAD}
    assert responses.calls[0].request.headers["Authorization"].startswith("Bearer ")
    [action] = actions()
    assert (action.status, action.instantly_entry_id, action.email) == (
        "blocked", ENTRY["id"], LEAD,
    )  # fmt: skip
    assert action.previous_lead_status == LeadStatus.ACTIVE
    assert (lead().status, lead().do_not_contact, lead().score) == ("unsubscribed", True, 0)


@responses.activate
def test_reprocessing_the_reply_blocks_nothing_more(workspace, process):
    responses.post(ENTRIES, json=ENTRY)
    process(workspace, reply(REMOVE_ME))
    with staff_scope():
        event_ids = list(Message.objects.unscoped().values_list("source_event_id", flat=True))
    queue.process_events(event_ids, now=NOW)
    assert len(responses.calls) == 1 and len(actions()) == 1


@responses.activate
def test_undo_unblocks_and_gives_the_lead_its_status_back(workspace, process, adam):
    responses.post(ENTRIES, json=ENTRY)
    responses.delete(f"{ENTRIES}/{ENTRY['id']}", status=204)
    process(workspace, reply(REMOVE_ME))
    [action] = actions()
    request = RequestFactory().post("/admin/")
    request.user = adam
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    with staff_scope():
        BlocklistActionAdmin(BlocklistAction, site).undo(
            request, BlocklistAction.objects.unscoped().filter(pk=action.pk)
        )
    assert [c.request.method for c in responses.calls] == ["POST", "DELETE"]
    [action] = actions()
    assert (action.status, action.undone_by) == ("undone", adam)
    assert (lead().status, lead().do_not_contact) == ("active", False)
    assert lead().score_value > 0  # its history counts again (the score is no longer held at 0)


@responses.activate
def test_organizations_can_turn_it_off_or_ask_for_more_confidence(org_a, workspace, process):
    with staff_scope():
        settings_row = ReplySettings.objects.create(organization=org_a, block_do_not_contact=False)
    process(workspace, reply(REMOVE_ME))
    assert not actions() and not responses.calls
    assert lead().status == LeadStatus.ACTIVE and lead().do_not_contact  # flagged, not acted on
    with staff_scope():
        settings_row.block_do_not_contact, settings_row.block_min_confidence = True, 1.0
        settings_row.save()
    process(workspace, reply("Unsubscribe", email_id="e-2", at="2026-03-02T11:50:00.000Z"))
    with staff_scope():
        assert Message.objects.unscoped().get(instantly_email_id="e-2").category_confidence < 1.0
    assert not actions() and not responses.calls


@responses.activate
def test_a_persons_correction_to_do_not_contact_is_acted_on(org_a, workspace, process, alice,
                                                            django_capture_on_commit_callbacks):  # fmt: skip
    responses.post(ENTRIES, json=ENTRY)
    process(workspace, reply("Thanks, not for us right now."))
    assert not actions()
    with staff_scope():
        message = Message.objects.unscoped().get()
    with django_capture_on_commit_callbacks(execute=True), staff_scope():
        reply_categories.correct_category(message, "do_not_contact", alice)
    [action] = actions()
    assert (action.status, action.by_person, action.confidence) == ("blocked", True, 1.0)


@responses.activate
def test_a_failed_call_is_kept_for_staff_to_retry(workspace, process):
    responses.post(ENTRIES, status=500, json={"message": "boom"})
    process(workspace, reply(REMOVE_ME))
    [action] = actions()
    assert action.status == "failed" and action.error
    responses.replace(responses.POST, ENTRIES, json=ENTRY)
    with staff_scope():
        assert blocklist.push(action).status == "blocked"
