"""History backfill against the sandbox over real HTTP: the Unibox and the lead lists land
completely, a second run reads only what is new, an interrupted run resumes where it stopped,
a reply delivered both by webhook and by the backfill is one message, and the Unibox's own
limit (20 requests a minute) is kept."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from accounts.tenancy import staff_scope
from campaigns.models import Campaign, Contact, InterestStatus, Lead, LeadLabel
from instantly import codes
from instantly.connections import client_for
from instantly.errors import InstantlyError
from instantly.history_api import EMAILS_LIMIT
from instantly.limiter import LocalRateLimiter
from instantly.models import HistoryBackfill
from instantly.sandbox import DEFAULT_API_KEY, SandboxApp, SandboxServer, SandboxWorkspace
from instantly.sandbox.webhooks import generate_deliveries
from instantly.sync.backfill import backfill_history
from instantly.sync.run import sync_workspace
from instantly.webhooks.ingest import build_event
from instantly.webhooks.queue import drain
from messaging.models import Message, Thread
from testkit import make_connection

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
EMAILS_PATH = "GET /api/v2/emails"


def _workspace(**sizes) -> SandboxWorkspace:
    return SandboxWorkspace(seed=11, now=NOW, **sizes).materialize()


@pytest.fixture(scope="module")
def big_workspace():
    # 10 campaigns of 160 leads: 1,600 leads and a little over 2,000 Unibox emails.
    workspace = _workspace(campaigns=10, accounts=20, leads_per_campaign=160)
    assert len(workspace.emails()) >= 2000 and len(workspace.leads()) >= 1000
    return workspace


@pytest.fixture
def connection(db):
    return make_connection("Sandbox agency workspace", is_shared=True, api_key=DEFAULT_API_KEY)


class Served:
    def __init__(self, workspace, **options):
        self.app = SandboxApp(workspace, **options)
        self.server = SandboxServer(self.app)

    def client(self, connection):
        return client_for(connection, base_url=self.server.base_url, sleeper=lambda s: None)

    def emails_requests(self) -> int:
        return self.app.stats()["by_path"].get(EMAILS_PATH, 0)


@pytest.fixture
def served(big_workspace):
    served = Served(big_workspace)
    with served.server:
        yield served


def _mirror(connection, served):
    """The sync without history: campaigns and mailboxes exist, as on a real first sync."""
    with served.client(connection) as client:
        sync_workspace(connection, client=client, history=False)


def _backfill(connection, served, **options):
    with served.client(connection) as client:
        return backfill_history(connection, client, **options)


def _messages(connection):
    with staff_scope():
        return list(
            Message.objects.unscoped()
            .filter(campaign__connection_id=connection.pk)
            .values("instantly_email_id", "thread_id", "direction", "kind", "source_event_id")
        )


def _state(connection) -> HistoryBackfill:
    with staff_scope():
        return HistoryBackfill.objects.unscoped().get(connection=connection)


def test_a_workspace_of_2000_emails_and_1000_leads_lands_completely(
    connection, served, big_workspace
):
    _mirror(connection, served)
    with served.client(connection) as client:
        result = sync_workspace(connection, client=client, history=True)

    emails, leads = big_workspace.emails(), big_workspace.leads()
    assert result.history.emails_fetched == len(emails)
    assert result.history.leads_fetched == len(leads)
    stored = _messages(connection)
    assert sorted(m["instantly_email_id"] for m in stored) == sorted(e["id"] for e in emails)
    by_id = {m["instantly_email_id"]: m for m in stored}
    for email in emails:
        message = by_id[email["id"]]
        inbound = email["ue_type"] == 2
        assert message["direction"] == ("inbound" if inbound else "outbound")
        assert message["source_event_id"] is None
    with staff_scope():
        threads = Thread.objects.unscoped().filter(campaign__connection_id=connection.pk)
        # One thread per lead conversation, carrying Instantly's thread id, counted right.
        expected_threads = Counter(e["thread_id"] for e in emails)
        assert {t.instantly_thread_id: t.message_count for t in threads} == expected_threads
        replied = {e["thread_id"] for e in emails if e["ue_type"] == 2 and not e["is_auto_reply"]}
        assert {t.instantly_thread_id for t in threads if t.has_reply} == replied
        # Backfilled replies are categorised, and their threads show it, as webhook ones do.
        assert {t.instantly_thread_id for t in threads if t.has_reply and t.category} == replied

        stored_leads = Lead.objects.unscoped().filter(campaign__connection_id=connection.pk)
        assert stored_leads.count() == len(leads)
        by_instantly_id = {lead.instantly_id: lead for lead in stored_leads.select_related()}
        # Custom interest values come back as the workspace's labels (GET /lead-labels).
        labels = dict(
            LeadLabel.objects.unscoped()
            .filter(connection_id=connection.pk, interest_value__isnull=False)
            .values_list("interest_value", "label")
        )
        assert labels, "the sandbox workspace has custom labels"
        for lead in leads:
            mine = by_instantly_id[lead["id"]]
            assert mine.status == codes.lead_status(lead["status"])
            value = lead.get("lt_interest_status")
            expected = codes.lead_interest(value, labels) if value not in (None, "") else ("", "")
            assert (mine.interest_status, mine.interest_label) == expected
            assert mine.raw["email"] == lead["email"]
        contact = Contact.objects.unscoped().get(email=leads[0]["email"].lower())
        assert contact.first_name == (leads[0].get("first_name") or "")
    assert _state(connection).emails_pass_open is False


def test_a_second_run_reads_only_what_is_new(connection, served, big_workspace):
    _mirror(connection, served)
    _backfill(connection, served)
    first = served.emails_requests()
    # Pages of 100, and the empty page after a full last one.
    assert first == len(big_workspace.emails()) // 100 + 1

    again = _backfill(connection, served)
    assert served.emails_requests() - first == 1  # the newest page only
    assert again.emails_written == 0 and again.leads_fetched == 0

    # A manual reply sent in Instantly since: the next run stores it, and only it.
    newest_sent = next(e for e in reversed(big_workspace.emails()) if e["ue_type"] == 1)
    new = big_workspace.reply(newest_sent["id"], newest_sent["eaccount"], "Re: hi", {"text": "Hi"})
    try:
        later = _backfill(connection, served)
        assert later.emails_written == 1
        ids = [m["instantly_email_id"] for m in _messages(connection)]
        assert ids.count(new["id"]) == 1
        assert len(ids) == len(big_workspace.emails())
    finally:
        big_workspace._campaign_emails(new["campaign_id"]).remove(new)
        big_workspace._email_index.pop(new["id"])


def test_an_interrupted_first_backfill_resumes_where_it_stopped(connection, served, big_workspace):
    _mirror(connection, served)
    total_pages = len(big_workspace.emails()) // 100 + 1

    stopped = _backfill(connection, served, max_pages=4)
    assert stopped.email_pages == 4 and not stopped.pass_finished
    state = _state(connection)
    assert state.emails_pass_open and state.emails_cursor
    # The next page fails (Instantly down): nothing is lost, the cursor stays where it was.
    served.app.inject(status=400, path="/api/v2/emails")
    with pytest.raises(InstantlyError):
        _backfill(connection, served)
    assert _state(connection).emails_cursor == state.emails_cursor
    assert len(_messages(connection)) == 400

    before = served.emails_requests()
    resumed = _backfill(connection, served)
    assert resumed.pass_finished
    assert served.emails_requests() - before == total_pages - 4
    ids = [m["instantly_email_id"] for m in _messages(connection)]
    assert len(ids) == len(set(ids)) == len(big_workspace.emails())


def _deliver(connection, payloads):
    events = [build_event(connection, payload) for payload in payloads]
    with staff_scope():
        type(events[0]).objects.unscoped().bulk_create(events, ignore_conflicts=True)
    drain()


@pytest.fixture
def small():
    served = Served(_workspace(campaigns=2, accounts=5, leads_per_campaign=30))
    with served.server:
        yield served


def _replies(workspace, count=3):
    payloads = generate_deliveries(workspace, 400, seed=3, event_types=["reply_received"])
    ids = {email["id"] for email in workspace.emails()}
    return [p for p in payloads if p.get("email_id") in ids][:count]


@pytest.mark.parametrize("webhook_first", [True, False])
def test_a_reply_delivered_by_webhook_and_backfill_is_one_message(connection, small, webhook_first):
    _mirror(connection, small)
    replies = _replies(small.app.workspace)
    assert replies
    if webhook_first:
        _deliver(connection, replies)
        _backfill(connection, small)
    else:
        _backfill(connection, small)
        _deliver(connection, replies)

    stored = _messages(connection)
    ids = [m["instantly_email_id"] for m in stored]
    assert len(ids) == len(set(ids)) == len(small.app.workspace.emails())
    for reply in replies:
        message = next(m for m in stored if m["instantly_email_id"] == reply["email_id"])
        assert message["source_event_id"] is not None  # the webhook's event owns it
    with staff_scope():
        for thread in Thread.objects.unscoped().filter(campaign__connection_id=connection.pk):
            assert thread.message_count == thread.messages.count()


def test_the_unibox_limit_of_20_a_minute_is_kept(connection, big_workspace):
    """With the sandbox answering 429 past 20 Unibox requests a minute (on a shared fake
    clock), the backfill never gets one and spends the time the limit sets."""
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    served = Served(big_workspace, clock=lambda: now[0], emails_per_minute=20)
    limiter = LocalRateLimiter([EMAILS_LIMIT], clock=lambda: now[0], sleeper=sleep)
    with served.server:
        _mirror(connection, served)
        result = _backfill(connection, served, limiter=limiter)
    assert result.pass_finished
    assert served.app.stats()["by_status"].get("429", 0) == 0
    pages = result.email_pages
    assert pages > 20
    assert EMAILS_LIMIT.limit == 20
    # 20 requests a window: about 3 s each beyond the first 20.
    assert now[0] >= (pages - 20) * EMAILS_LIMIT.period / 20


def test_custom_interest_values_are_kept(connection, small):
    lead = small.app.workspace.leads()[0]
    saved = lead["lt_interest_status"]
    lead["lt_interest_status"] = 12345  # a custom label's value
    try:
        _mirror(connection, small)
        _backfill(connection, small)
    finally:
        lead["lt_interest_status"] = saved
    with staff_scope():
        mine = Lead.objects.unscoped().get(instantly_id=lead["id"])
    assert mine.interest_status == InterestStatus.CUSTOM
    assert mine.interest_label == "12345"
    assert mine.raw["lt_interest_status"] == 12345


def test_a_periodic_sync_reads_a_few_pages_and_continues_next_time(
    connection, served, big_workspace, settings
):
    settings.INSTANTLY_HISTORY_PAGES_PER_SYNC = 5
    with served.client(connection) as client:
        first = sync_workspace(connection, client=client)
    assert first.history.email_pages == 5 and not first.history.pass_finished
    with staff_scope():
        assert Campaign.objects.unscoped().filter(connection_id=connection.pk).exists()
    with served.client(connection) as client:
        second = sync_workspace(connection, client=client)
    assert second.history.email_pages == 5
    assert len(_messages(connection)) == 1000


def test_instantly_sync_history_backfills_everything_now(connection, small):
    from io import StringIO

    from django.core.management import call_command

    from instantly.connections import served_by

    out = StringIO()
    with served_by(small.server.base_url):
        call_command("instantly_sync", "--history", "--connection", connection.name, stdout=out)
    assert "history:" in out.getvalue()
    assert len(_messages(connection)) == len(small.app.workspace.emails())
    with staff_scope():
        assert Lead.objects.unscoped().filter(campaign__connection_id=connection.pk).count() == len(
            small.app.workspace.leads()
        )
