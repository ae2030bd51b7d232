"""Webhook processing: per event type, a literal delivery in Instantly's flat shape and the rows
it must produce; duplicates counted once; out-of-order deliveries; retries, failure, sweeper.

Payloads are written out in full, as Instantly sends them: custom variables merged in as
top-level camelCase keys, `email` next to `lead_email`, `step`/`variant` sometimes strings,
`is_first` sometimes absent. Clocks are passed in; nothing sleeps.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.core.management import call_command

from accounts.tenancy import staff_scope, tenant_scope
from campaigns.models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    InterestStatus,
    LabelMeaning,
    Lead,
    LeadLabel,
    LeadStatus,
    MailboxStatus,
)
from instantly.models import Alert, WebhookEvent
from instantly.webhooks import apply, queue, tasks
from instantly.webhooks.ingest import store_delivery
from instantly.webhooks.reprocess import reprocess_events
from messaging.models import FeedEvent, Message, Notification, Thread
from testkit import make_connection

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
CAMPAIGN_ID = "0195a3c2-7d0e-7a31-9b1e-3c6f5d2a8e01"
LEAD = "maya.patel@bluepeak-analytics.example"
MAILBOX = "sam@salesbrain-mail.example"

SENT = {
    "timestamp": "2026-03-02T09:15:00.000Z",
    "event_type": "email_sent",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": 1,
    "variant": "2",
    "is_first": True,
    "email_id": "0195a3d1-5c1a-7b2e-8f00-0000000000a1",
    "unibox_url": "https://app.instantly.ai/app/unibox?thread_search=thread:0195a3d1-th01",
    "email_subject": "Maya, quick question about Bluepeak Analytics",
    "email_text": "Hi Maya,\n\nI noticed Bluepeak Analytics is hiring for its sales team.",
    "email_html": "<div>Hi Maya,<br><br>I noticed Bluepeak Analytics is hiring.</div>",
    "firstName": "Maya",
    "lastName": "Patel",
    "companyName": "Bluepeak Analytics",
    "jobTitle": "Head of Sales",
    "city": "Berlin",
}
OPENED = {
    "timestamp": "2026-03-02T10:02:11.000Z",
    "event_type": "email_opened",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": "1",
    "variant": "2",
    "unibox_url": "https://app.instantly.ai/app/unibox?thread_search=thread:0195a3d1-th01",
    "firstName": "Maya",
    "lastName": "Patel",
    "companyName": "Bluepeak Analytics",
    "jobTitle": "Head of Sales",
    "city": "Berlin",
}
CLICKED = {
    "timestamp": "2026-03-02T10:03:40.000Z",
    "event_type": "email_link_clicked",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": 1,
    "variant": 2,
    "unibox_url": "https://app.instantly.ai/app/unibox?thread_search=thread:0195a3d1-th01",
    "firstName": "Maya",
    "lastName": "Patel",
    "companyName": "Bluepeak Analytics",
}
REPLIED = {
    "timestamp": "2026-03-02T11:20:05.000Z",
    "event_type": "reply_received",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": 1,
    "variant": 2,
    "is_first": True,
    "email_id": "0195a3e9-0000-7abc-8000-0000000000b7",
    "unibox_url": "https://app.instantly.ai/app/unibox?thread_search=thread:0195a3d1-th01",
    "reply_subject": "Re: Maya, quick question about Bluepeak Analytics",
    "reply_text": "Thanks Sam, this is timely. Could you send a few times for a call on Thursday?",
    "reply_html": "<div>Thanks Sam, this is timely.</div>",
    "reply_text_snippet": "Thanks Sam, this is timely. Could you send a few times",
    "firstName": "Maya",
    "lastName": "Patel",
    "companyName": "Bluepeak Analytics",
}
AUTO_REPLIED = {
    "timestamp": "2026-03-02T09:16:30.000Z",
    "event_type": "auto_reply_received",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": "1",
    "variant": "2",
    "email_id": "0195a3d2-0000-7abc-8000-0000000000c1",
    "reply_subject": "Automatic reply: Maya, quick question",
    "reply_text": "I am out of the office until Monday with limited access to email.",
    "reply_html": "<p>I am out of the office until Monday.</p>",
    "reply_text_snippet": "I am out of the office until Monday",
    "firstName": "Maya",
    "lastName": "Patel",
}
BOUNCED = {
    "timestamp": "2026-03-02T09:15:40.000Z",
    "event_type": "email_bounced",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": 1,
    "variant": 1,
    "firstName": "Maya",
}
UNSUBSCRIBED = {
    "timestamp": "2026-03-03T08:00:00.000Z",
    "event_type": "lead_unsubscribed",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": 2,
    "variant": 1,
    "firstName": "Maya",
    "lastName": "Patel",
}
INTERESTED = {
    "timestamp": "2026-03-02T11:45:00.000Z",
    "event_type": "lead_interested",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "lead_email": LEAD,
    "email": LEAD,
    "email_account": MAILBOX,
    "step": 1,
    "variant": 2,
    "unibox_url": "https://app.instantly.ai/app/unibox?thread_search=thread:0195a3d1-th01",
    "firstName": "Maya",
    "lastName": "Patel",
    "companyName": "Bluepeak Analytics",
}
CAMPAIGN_COMPLETED = {
    "timestamp": "2026-03-20T18:00:00.000Z",
    "event_type": "campaign_completed",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
}
ACCOUNT_ERROR = {
    "timestamp": "2026-03-02T07:30:00.000Z",
    "event_type": "account_error",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": CAMPAIGN_ID,
    "campaign_name": "SaaS founders EU",
    "email_account": "Ops@SalesBrain-Mail.example",
    "error_message": "Invalid login: 535-5.7.8 Username and Password not accepted.",
}


def with_(base: dict, **changes) -> dict:
    payload = copy.deepcopy(base)
    payload.update(changes)
    return payload


@pytest.fixture
def connection(shared_connection):
    return shared_connection


@pytest.fixture
def org_connection(org_a):
    """A customer's dedicated workspace: its rows belong to org A."""
    return make_connection(
        "Acme workspace", organization=org_a, workspace_id="ws-a", api_key="test-acme-key-0000"
    )


def deliver(connection, *payloads, received_at=NOW):
    """Store deliveries like the receiver does; answer their event ids."""
    ids = []
    for payload in payloads:
        stored = store_delivery(connection, payload, received_at=received_at)
        ids.append(stored.event_id)
    return ids


def process(ids=None, now=NOW):
    if ids is None:
        return queue.drain(now=now)
    return queue.process_events(ids, now=now)


def event(pk):
    with staff_scope():
        return WebhookEvent.objects.get(pk=pk)


def stat(campaign_instantly_id=CAMPAIGN_ID, day=dt.date(2026, 3, 2)):
    with staff_scope():
        row = CampaignDailyStat.objects.filter(
            campaign__instantly_id=campaign_instantly_id, date=day
        ).first()
    if row is None:
        return {}
    return {name: getattr(row, name) for name in CampaignDailyStat.COUNTERS if getattr(row, name)}


def lead():
    with staff_scope():
        return Lead.objects.select_related("contact", "campaign").get(contact__email=LEAD)


# --- per event type ----------------------------------------------------------------------------


def test_email_sent_creates_placeholder_campaign_contact_lead_thread_message_and_counts(
    connection,
):
    [pk] = deliver(connection, SENT)
    report = process([pk])
    assert report.processed == 1

    with staff_scope():
        campaign = Campaign.objects.get(instantly_id=CAMPAIGN_ID)
        assert campaign.is_placeholder and campaign.name == "SaaS founders EU"
        assert campaign.organization_id is None  # shared workspace: staff only
        contact = Contact.objects.get(email=LEAD)
        assert (contact.first_name, contact.last_name, contact.company_name) == (
            "Maya",
            "Patel",
            "Bluepeak Analytics",
        )
        assert contact.custom_variables["jobTitle"] == "Head of Sales"
        assert contact.custom_variables["city"] == "Berlin"
        the_lead = Lead.objects.get(campaign=campaign, contact=contact)
        assert the_lead.last_activity_at == dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
        mailbox = EmailAccount.objects.get(email=MAILBOX)
        assert CampaignSender.objects.filter(campaign=campaign, email_account=mailbox).exists()
        thread = Thread.objects.get(campaign=campaign, contact=contact)
        assert thread.subject == SENT["email_subject"]
        assert thread.instantly_thread_id == "0195a3d1-th01"
        assert (thread.message_count, thread.has_reply, thread.is_unread) == (1, False, False)
        message = Message.objects.get(source_event_id=pk)
        assert message.thread_id == thread.pk
        assert message.direction == Message.Direction.OUTBOUND
        assert message.kind == Message.Kind.CAMPAIGN
        assert message.subject == SENT["email_subject"]
        assert message.body_text == SENT["email_text"]
        assert message.body_html == SENT["email_html"]
        assert (message.step, message.variant) == (1, 2)
        assert message.instantly_email_id == SENT["email_id"]
        assert message.email_account_id == mailbox.pk
        assert (message.from_email, message.to_email) == (MAILBOX, LEAD)
        assert message.sent_at == dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
        mailbox_day = EmailAccountDailyStat.objects.get(email_account=mailbox)
        assert (mailbox_day.date, mailbox_day.sent) == (dt.date(2026, 3, 2), 1)
    assert stat() == {"sent": 1, "contacted": 1}
    assert event(pk).status == WebhookEvent.Status.PROCESSED
    # Stamped when the batch was applied: its start (the claim) plus the time it took.
    assert NOW <= event(pk).processed_at < NOW + dt.timedelta(seconds=5)
    assert event(pk).processed_at > event(pk).claimed_at


def test_opens_count_every_open_and_the_first_one_per_lead_as_unique(connection):
    second_open = with_(OPENED, timestamp="2026-03-02T15:00:00Z")
    deliver(connection, SENT, OPENED)
    process()
    deliver(connection, second_open)  # a later batch: uniqueness is remembered across batches
    process()
    with staff_scope():
        opens = Activity.objects.filter(kind=Activity.Kind.OPENED).order_by("occurred_at")
        assert [(a.step, a.variant, a.lead_id) for a in opens] == [(1, 2, lead().pk)] * 2
    assert stat() == {"sent": 1, "contacted": 1, "opened": 2, "unique_opened": 1}


@pytest.mark.parametrize("spelling", ["email_link_clicked", "link_clicked", "email_clicked"])
def test_every_click_spelling_records_a_click(connection, spelling):
    deliver(connection, with_(CLICKED, event_type=spelling))
    process()
    with staff_scope():
        click = Activity.objects.get(kind=Activity.Kind.CLICKED)
        assert click.data["event_type"] == spelling
    assert stat() == {"clicked": 1, "unique_clicked": 1}


def test_reply_creates_an_inbound_message_in_the_same_thread_and_marks_it_replied(connection):
    deliver(connection, SENT, REPLIED)
    process()
    with staff_scope():
        thread = Thread.objects.get()
        reply = Message.objects.get(kind=Message.Kind.REPLY)
        mailbox_day = EmailAccountDailyStat.objects.get()
    assert reply.thread_id == thread.pk
    assert reply.direction == Message.Direction.INBOUND
    assert (reply.from_email, reply.to_email) == (LEAD, MAILBOX)
    assert reply.subject == REPLIED["reply_subject"]
    assert reply.body_text == REPLIED["reply_text"]
    assert reply.snippet == REPLIED["reply_text_snippet"]
    assert reply.is_unread
    assert (thread.message_count, thread.has_reply, thread.is_unread) == (2, True, True)
    assert thread.last_inbound_at == dt.datetime(2026, 3, 2, 11, 20, 5, tzinfo=dt.UTC)
    assert (mailbox_day.sent, mailbox_day.replied) == (1, 1)
    assert stat() == {"sent": 1, "contacted": 1, "replied": 1, "unique_replied": 1}


def test_automatic_reply_is_a_message_of_its_own_kind_not_a_reply(connection):
    deliver(connection, SENT, AUTO_REPLIED)
    process()
    with staff_scope():
        auto = Message.objects.get(kind=Message.Kind.AUTO_REPLY)
        thread = Thread.objects.get()
    assert auto.direction == Message.Direction.INBOUND and not auto.is_unread
    assert (thread.has_reply, thread.message_count) == (False, 2)
    assert stat() == {"sent": 1, "contacted": 1, "auto_replied": 1}


def test_bounce_records_activity_marks_the_lead_and_counts(connection):
    deliver(connection, SENT, BOUNCED)
    process()
    the_lead = lead()
    assert the_lead.status == LeadStatus.BOUNCED
    assert the_lead.status_at == dt.datetime(2026, 3, 2, 9, 15, 40, tzinfo=dt.UTC)
    with staff_scope():
        assert Activity.objects.filter(kind=Activity.Kind.BOUNCED, lead=the_lead).count() == 1
        assert EmailAccountDailyStat.objects.get().bounced == 1
    assert stat() == {"sent": 1, "contacted": 1, "bounced": 1}


@pytest.mark.parametrize(
    ("spelling", "kind"),
    [
        ("lead_unsubscribed", Activity.Kind.UNSUBSCRIBED),
        ("email_unsubscribed", Activity.Kind.UNSUBSCRIBED),
        ("email_spam_report", Activity.Kind.SPAM_REPORTED),
    ],
)
def test_unsubscribes_and_spam_reports_unsubscribe_the_lead(connection, spelling, kind):
    deliver(connection, with_(UNSUBSCRIBED, event_type=spelling))
    process()
    assert lead().status == LeadStatus.UNSUBSCRIBED
    with staff_scope():
        assert Activity.objects.get().kind == kind
    assert stat(day=dt.date(2026, 3, 3)) == {"unsubscribed": 1}


@pytest.mark.parametrize(
    ("spelling", "base"),
    [
        ("lead_completed", "UNSUBSCRIBED"),
        ("lead_error", "UNSUBSCRIBED"),
        ("campaign_started", "CAMPAIGN_COMPLETED"),
        ("campaign_paused", "CAMPAIGN_COMPLETED"),
    ],
)
def test_the_seeds_invented_events_are_stored_and_ignored(connection, spelling, base):
    """No Instantly event is called so: kept (never taken for a custom label), acting on
    nothing; a lead's status comes from its events, a campaign's state from the sync."""
    [pk] = deliver(connection, with_(globals()[base], event_type=spelling))
    process()
    assert event(pk).status == WebhookEvent.Status.IGNORED
    with staff_scope():
        assert not Lead.objects.exists()
        assert not Activity.objects.exists()
        assert not Campaign.objects.exclude(status=CampaignStatus.UNKNOWN).exists()


@pytest.mark.parametrize(
    ("spelling", "interest"),
    [
        ("lead_neutral", InterestStatus.NEUTRAL),
        ("lead_interested", InterestStatus.INTERESTED),
        ("lead_not_interested", InterestStatus.NOT_INTERESTED),
        ("lead_meeting_booked", InterestStatus.MEETING_BOOKED),
        ("lead_meeting_completed", InterestStatus.MEETING_COMPLETED),
        ("lead_closed", InterestStatus.CLOSED),
        ("lead_out_of_office", InterestStatus.OUT_OF_OFFICE),
        ("lead_wrong_person", InterestStatus.WRONG_PERSON),
        ("lead_no_show", InterestStatus.NO_SHOW),
    ],
)
def test_interest_events_set_the_lead_interest_status(connection, spelling, interest):
    deliver(connection, with_(INTERESTED, event_type=spelling))
    process()
    the_lead = lead()
    assert (the_lead.interest_status, the_lead.interest_label) == (interest, "")
    assert the_lead.interest_status_at == dt.datetime(2026, 3, 2, 11, 45, tzinfo=dt.UTC)
    with staff_scope():
        assert Activity.objects.get().kind == Activity.Kind.INTEREST_CHANGED


def test_a_custom_label_becomes_a_custom_interest_with_its_text(connection):
    deliver(connection, with_(INTERESTED, event_type="Hot Prospect"))
    process()
    the_lead = lead()
    assert (the_lead.interest_status, the_lead.interest_label) == (
        InterestStatus.CUSTOM,
        "Hot Prospect",
    )
    with staff_scope():
        assert Activity.objects.get().data["label"] == "Hot Prospect"


@pytest.mark.parametrize("label", ["follow_up", "hot_lead", "Hot Lead"])
def test_a_machine_looking_custom_label_is_a_label_not_an_ignored_type(connection, label):
    """Instantly sends a custom label's name as-is as the event_type."""
    [pk] = deliver(connection, with_(INTERESTED, event_type=label))
    process()
    assert event(pk).status == WebhookEvent.Status.PROCESSED
    the_lead = lead()
    assert (the_lead.interest_status, the_lead.interest_label) == (InterestStatus.CUSTOM, label)


def _label(connection, name, meaning, value):
    with staff_scope():
        return LeadLabel.objects.create(
            connection_id=connection.pk,
            organization_id=connection.organization_id,
            instantly_id=f"label-{value}",
            label=name,
            meaning=meaning,
            interest_value=value,
        )


def test_a_positive_custom_label_counts_and_notifies_like_interested(org_a, org_connection):
    """GET /lead-labels says what a label means; a positive one feeds the interest path of
    "interested" (counter, notification) while the lead keeps the label itself."""
    _label(org_connection, "hot_lead", LabelMeaning.POSITIVE, 17)
    _label(org_connection, "Maybe later", LabelMeaning.NEUTRAL, 18)
    deliver(
        org_connection,
        with_(INTERESTED, event_type="Hot_Lead"),  # any spelling of its name
        with_(INTERESTED, event_type="maybe later", timestamp="2026-03-02T12:00:00Z"),
    )
    process()
    with tenant_scope(org_a.pk):
        (note,) = Notification.objects.all()
        the_lead = Lead.objects.get()
        activities = list(Activity.objects.order_by("occurred_at"))
    assert note.kind == Notification.Kind.LEAD_INTERESTED
    assert note.title == "Maya Patel is interested (Hot_Lead)"
    assert (the_lead.interest_status, the_lead.interest_label) == (
        InterestStatus.CUSTOM,
        "maybe later",
    )
    assert [a.data.get("label_meaning") for a in activities] == ["positive", "neutral"]
    assert stat() == {"interested": 1}


def test_a_reply_whose_unibox_url_names_the_lead_threads_with_its_conversation(connection):
    """Older deliveries carry `thread_search=<lead email>`: no thread id, the same thread."""
    by_email = with_(
        REPLIED,
        unibox_url=f"https://app.instantly.ai/app/unibox?thread_search={LEAD}",
        email_id="0195a3e9-0000-7abc-8000-0000000000c9",
        timestamp="2026-03-02T11:40:00.000Z",
    )
    deliver(connection, SENT, REPLIED, by_email)
    process()
    with staff_scope():
        thread = Thread.objects.get()
        assert Message.objects.filter(thread=thread).count() == 3
    assert thread.instantly_thread_id == "0195a3d1-th01"


def test_positive_interest_notifies_the_customer_who_owns_the_campaign(
    org_a, org_b, org_connection
):
    deliver(
        org_connection,
        INTERESTED,
        with_(INTERESTED, event_type="lead_meeting_booked", timestamp="2026-03-02T12:00:00Z"),
        with_(INTERESTED, event_type="lead_not_interested", timestamp="2026-03-02T12:30:00Z"),
    )
    process()
    with tenant_scope(org_a.pk):
        kinds = sorted(Notification.objects.values_list("kind", flat=True))
        titles = sorted(Notification.objects.values_list("title", flat=True))
        assert Lead.objects.get().interest_status == InterestStatus.NOT_INTERESTED
    assert kinds == [Notification.Kind.LEAD_INTERESTED, Notification.Kind.MEETING_BOOKED]
    assert titles == ["Maya Patel is interested", "Meeting booked with Maya Patel"]
    with tenant_scope(org_b.pk):
        assert not Notification.objects.exists()
        assert not Lead.objects.exists()
    assert stat() == {"interested": 1, "meetings_booked": 1}


def test_unassigned_campaigns_raise_no_customer_notification(connection):
    deliver(connection, INTERESTED)
    process()
    with staff_scope():
        assert not Notification.objects.exists()


def test_rows_of_a_customer_workspace_belong_to_that_customer_only(org_a, org_b, org_connection):
    deliver(org_connection, SENT, REPLIED)
    process()
    with tenant_scope(org_a.pk):
        assert Campaign.objects.get().instantly_id == CAMPAIGN_ID
        assert Contact.objects.count() == Lead.objects.count() == Thread.objects.count() == 1
        assert Message.objects.count() == 2
        assert CampaignDailyStat.objects.get().sent == 1
    with tenant_scope(org_b.pk):
        for model in (Campaign, Contact, Lead, Thread, Message, CampaignDailyStat):
            assert not model.objects.exists(), model


def test_events_use_the_campaign_organization_once_staff_assigned_it(
    org_a, connection, tenant_rows
):
    """A shared-workspace campaign assigned to org A: its new rows are org A's."""
    assigned = tenant_rows["a"]["campaign"]  # instantly_id "cmp-a", org A, shared connection
    deliver(connection, with_(SENT, campaign_id=assigned.instantly_id))
    process()
    with tenant_scope(org_a.pk):
        message = Message.objects.get(source_event_id__isnull=False)
        assert message.campaign_id == assigned.pk
        assert Contact.objects.filter(email=LEAD).exists()


def test_campaign_completed_updates_the_campaign(connection):
    deliver(connection, CAMPAIGN_COMPLETED)
    process()
    with staff_scope():
        campaign = Campaign.objects.get(instantly_id=CAMPAIGN_ID)
        assert Activity.objects.get().kind == Activity.Kind.CAMPAIGN_CHANGED
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.completed_at == dt.datetime(2026, 3, 20, 18, 0, tzinfo=dt.UTC)


def test_campaign_started_never_reopens_a_campaign_the_sync_is_the_source(connection):
    """`campaign_started` is not an Instantly event: even a newer one changes nothing."""
    deliver(connection, CAMPAIGN_COMPLETED)
    process()
    for timestamp in ("2026-03-01T08:00Z", "2026-04-01T08:00Z"):
        deliver(
            connection,
            with_(CAMPAIGN_COMPLETED, event_type="campaign_started", timestamp=timestamp),
        )
        process()
        with staff_scope():
            assert Campaign.objects.get().status == CampaignStatus.COMPLETED


def test_account_error_marks_the_mailbox_and_alerts_staff(connection):
    [pk] = deliver(connection, ACCOUNT_ERROR)
    process()
    with staff_scope():
        mailbox = EmailAccount.objects.get(email="ops@salesbrain-mail.example")
        alert = Alert.objects.get(kind=Alert.Kind.ACCOUNT_ERROR)
        assert Activity.objects.get().kind == Activity.Kind.ACCOUNT_ERROR
    assert mailbox.status == MailboxStatus.CONNECTION_ERROR
    assert mailbox.last_error == ACCOUNT_ERROR["error_message"]
    assert mailbox.last_error_at == dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.UTC)
    assert alert.email_account_id == mailbox.pk and alert.source_event_id == pk
    assert alert.organization_id is None  # shared workspace: only staff see it
    assert alert.severity == Alert.Severity.WARNING
    assert ACCOUNT_ERROR["error_message"] in alert.message


def test_account_suspended_is_a_critical_alert(connection):
    deliver(connection, with_(ACCOUNT_ERROR, event_type="account_suspended"))
    process()
    with staff_scope():
        alert = Alert.objects.get()
        assert EmailAccount.objects.get().status == MailboxStatus.SENDING_ERROR
    assert alert.severity == Alert.Severity.CRITICAL


def test_a_numeric_mailbox_status_in_the_payload_is_used_when_it_is_an_error(connection):
    deliver(connection, with_(ACCOUNT_ERROR, status="-2"))
    process()
    with staff_scope():
        assert EmailAccount.objects.get().status == MailboxStatus.SOFT_BOUNCE_ERROR


def test_an_older_account_error_does_not_replace_a_newer_one(connection):
    older = with_(ACCOUNT_ERROR, timestamp="2026-03-01T07:30:00Z", error_message="old problem")
    deliver(connection, ACCOUNT_ERROR, older)
    process()
    with staff_scope():
        assert EmailAccount.objects.get().last_error == ACCOUNT_ERROR["error_message"]
        assert Alert.objects.count() == 2  # each delivery is still shown to staff


def test_unknown_and_unhandled_event_types_are_ignored_and_kept(connection):
    enrichment = {
        "timestamp": "2026-03-02T07:00:00.000Z",
        "event_type": "supersearch_enrichment_completed",
        "workspace": "0195a3c0-1111-7000-8000-000000000001",
        "campaign_id": CAMPAIGN_ID,
        "campaign_name": "SaaS founders EU",
        "lead_email": LEAD,
        "email": LEAD,
        "firstName": "Maya",
    }
    # An event_type nobody can read (not text) is unknown; any name would be a custom label.
    unknown = with_(enrichment, event_type=42)
    ids = deliver(connection, enrichment, unknown)
    assert [event(pk).status for pk in ids] == [WebhookEvent.Status.IGNORED] * 2
    assert process().total == 0  # ignored rows are never claimed
    with staff_scope():
        assert not Contact.objects.exists()
        assert event(ids[1]).event_type_raw == "42"


def test_a_lead_event_without_a_lead_address_is_ignored_with_a_reason(connection):
    no_email = with_(OPENED)
    del no_email["lead_email"], no_email["email"]
    [pk] = deliver(connection, no_email)
    report = process()
    assert report.ignored == 1
    assert event(pk).status == WebhookEvent.Status.IGNORED
    assert "lead email" in event(pk).last_error


def test_a_lead_known_by_email_only_is_found_by_the_email_field(connection):
    only_email = with_(OPENED)
    del only_email["lead_email"]
    deliver(connection, only_email)
    process()
    assert lead().contact.email == LEAD


def test_names_fill_an_existing_contact_but_never_overwrite(connection):
    with staff_scope():
        Contact.objects.create(email=LEAD, first_name="Maya-Lou")
    deliver(connection, SENT)
    process()
    with staff_scope():
        contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Maya-Lou", "Patel")


# --- duplicates --------------------------------------------------------------------------------


def test_an_identical_delivery_is_stored_once(connection):
    first = store_delivery(connection, SENT)
    again = store_delivery(connection, dict(reversed(list(SENT.items()))))  # other key order
    assert first.event_id and again.duplicate and again.event_id is None
    with staff_scope():
        assert WebhookEvent.objects.count() == 1


def test_reprocessing_an_event_changes_nothing(connection):
    ids = deliver(connection, SENT, OPENED, REPLIED, BOUNCED, INTERESTED, ACCOUNT_ERROR)
    process()
    before = stat()
    with staff_scope():
        WebhookEvent.objects.update(status=WebhookEvent.Status.FAILED)
        counts = {m: m.objects.count() for m in (Message, Activity, Alert, Thread, Lead, Contact)}
    assert reprocess_events(ids) == len(ids)
    process(ids)
    assert stat() == before
    with staff_scope():
        assert {m: m.objects.count() for m in counts} == counts
        assert Thread.objects.get().message_count == 2
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_the_same_email_reported_twice_is_counted_once(connection):
    """A retry with a changed timestamp is not byte-identical, but its email id is the same."""
    retry = with_(SENT, timestamp="2026-03-02T09:15:02.000Z")
    ids = deliver(connection, SENT, retry)
    deliver(connection, with_(SENT, timestamp="2026-03-02T09:15:09.000Z"))
    process(ids)
    process()
    with staff_scope():
        assert Message.objects.count() == 1
        assert EmailAccountDailyStat.objects.get().sent == 1
    assert stat() == {"sent": 1, "contacted": 1}
    assert {event(pk).last_error for pk in ids} == {"", "already recorded"}


def test_a_message_a_sync_stored_first_is_adopted_and_counted_once(connection):
    deliver(connection, OPENED)  # creates campaign, lead, contact
    process()
    the_lead = lead()
    with staff_scope():
        thread = Thread.objects.create(campaign=the_lead.campaign, contact=the_lead.contact)
        synced = Message.objects.create(
            thread=thread,
            campaign=the_lead.campaign,
            contact=the_lead.contact,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.CAMPAIGN,
            instantly_email_id=SENT["email_id"],
            sent_at=NOW,
        )
    [pk] = deliver(connection, SENT)
    process()
    deliver(connection, with_(SENT, timestamp="2026-03-02T09:15:30Z"))
    process()
    with staff_scope():
        synced.refresh_from_db()
        assert Message.objects.count() == 1
    assert synced.source_event_id == pk
    assert stat()["sent"] == 1


# --- order -------------------------------------------------------------------------------------


def test_an_older_interest_never_overwrites_a_newer_one(connection):
    newer = with_(INTERESTED, event_type="lead_meeting_booked", timestamp="2026-03-05T10:00:00Z")
    deliver(connection, newer)
    process()
    deliver(connection, INTERESTED)  # 2026-03-02, delivered late
    process()
    the_lead = lead()
    assert the_lead.interest_status == InterestStatus.MEETING_BOOKED
    assert the_lead.interest_status_at == dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.UTC)


def test_out_of_order_deliveries_in_one_batch_end_in_the_right_state(connection):
    later_unsubscribe = with_(UNSUBSCRIBED, timestamp="2026-03-09T00:00Z")
    deliveries = [REPLIED, later_unsubscribe, INTERESTED, OPENED, SENT, BOUNCED]
    deliver(connection, *deliveries)
    process()
    the_lead = lead()
    assert the_lead.status == LeadStatus.UNSUBSCRIBED
    assert the_lead.interest_status == InterestStatus.INTERESTED
    assert the_lead.last_activity_at == dt.datetime(2026, 3, 9, tzinfo=dt.UTC)
    with staff_scope():
        thread = Thread.objects.get()
    assert thread.subject == SENT["email_subject"]  # the earliest message names the thread
    assert thread.last_message_at == dt.datetime(2026, 3, 2, 11, 20, 5, tzinfo=dt.UTC)
    assert stat() == {
        "sent": 1,
        "contacted": 1,
        "opened": 1,
        "unique_opened": 1,
        "replied": 1,
        "unique_replied": 1,
        "bounced": 1,
        "interested": 1,
    }


def test_a_reply_before_its_send_still_builds_one_thread(connection):
    deliver(connection, REPLIED)
    process()
    deliver(connection, SENT)
    process()
    with staff_scope():
        thread = Thread.objects.get()
        assert thread.message_count == 2 and thread.has_reply
    assert stat() == {"sent": 1, "contacted": 1, "replied": 1, "unique_replied": 1}


# --- failures, retries, sweeper ----------------------------------------------------------------


@pytest.fixture
def broken(monkeypatch):
    """Processing of events whose campaign is "cmp-broken" raises."""
    original = apply.Batch.record

    def record(self):
        if any(i.fields.campaign_id == "cmp-broken" for i in self.items):
            raise RuntimeError("database said no")
        return original(self)

    monkeypatch.setattr(apply.Batch, "record", record)


def test_one_bad_event_does_not_hold_back_its_batch(connection, broken):
    bad = with_(SENT, campaign_id="cmp-broken")
    good_ids = deliver(connection, SENT, OPENED)
    [bad_id] = deliver(connection, bad)
    report = process()
    assert (report.processed, report.retries) == (2, [(bad_id, queue.RETRY_DELAYS[0])])
    assert {event(pk).status for pk in good_ids} == {WebhookEvent.Status.PROCESSED}
    failed = event(bad_id)
    assert (failed.status, failed.attempts) == (WebhookEvent.Status.PENDING, 1)
    assert failed.last_error == "RuntimeError: database said no"


def test_a_failing_event_is_retried_with_growing_delays_then_failed(connection, broken):
    [pk] = deliver(connection, with_(SENT, campaign_id="cmp-broken"))
    now = NOW
    delays = []
    for _attempt in range(queue.MAX_ATTEMPTS):
        report = process([pk], now=now)
        delays.extend(delay for _, delay in report.retries)
        now += dt.timedelta(hours=1)
    assert delays == list(queue.RETRY_DELAYS)
    final = event(pk)
    assert (final.status, final.attempts) == (WebhookEvent.Status.FAILED, queue.MAX_ATTEMPTS)
    with staff_scope():
        alert = Alert.objects.get(kind=Alert.Kind.WEBHOOK_FAILED)
    assert alert.source_event_id == pk and "database said no" in alert.message
    assert process([pk], now=now).total == 0  # failed rows are not claimed again


def test_the_sweeper_finds_pending_rows_past_their_grace_and_retry_delay(connection, broken):
    [fresh, old] = deliver(connection, SENT, OPENED, received_at=NOW)
    [retrying] = deliver(connection, with_(SENT, campaign_id="cmp-broken"), received_at=NOW)
    with staff_scope():
        WebhookEvent.objects.filter(pk=old).update(received_at=NOW - dt.timedelta(minutes=5))
    process([retrying], now=NOW)  # attempt 1 fails: due again after RETRY_DELAYS[0]

    assert queue.find_stranded(now=NOW + dt.timedelta(seconds=10)).ids == [old]
    later = NOW + dt.timedelta(seconds=queue.RETRY_DELAYS[0] + 61)
    assert set(queue.find_stranded(now=later).ids) == {fresh, old, retrying}


def test_the_sweeper_takes_back_rows_of_a_dead_worker(connection):
    [pk] = deliver(connection, SENT)
    claimed = queue.claim_events([pk], now=NOW)  # ... and the worker dies
    assert [c.id for c in claimed] == [pk]
    soon = NOW + queue.PROCESSING_TIMEOUT - dt.timedelta(seconds=1)  # still its worker's
    assert queue.find_stranded(now=soon).ids == []
    assert queue.process_events([pk], now=soon).total == 0
    later = NOW + queue.PROCESSING_TIMEOUT + dt.timedelta(seconds=1)
    assert queue.find_stranded(now=later).ids == [pk]
    assert process([pk], now=later).processed == 1
    assert event(pk).attempts == 2


def test_the_sweeper_gives_up_on_a_row_that_kills_every_worker(connection):
    [pk] = deliver(connection, SENT)
    with staff_scope():
        WebhookEvent.objects.filter(pk=pk).update(
            status=WebhookEvent.Status.PROCESSING,
            attempts=queue.MAX_ATTEMPTS,
            claimed_at=NOW - dt.timedelta(hours=1),
        )
    stranded = queue.find_stranded(now=NOW)
    assert (stranded.ids, stranded.failed) == ([], 1)
    assert event(pk).status == WebhookEvent.Status.FAILED


def test_sweep_task_enqueues_what_it_finds(connection, monkeypatch):
    [pk] = deliver(connection, SENT, received_at=NOW - dt.timedelta(minutes=2))
    sent = []
    monkeypatch.setattr(tasks, "enqueue_events", lambda ids: sent.extend(ids) or len(ids))
    assert tasks.sweep_webhook_events(now=NOW.isoformat()) == {
        "stranded": 1,
        "enqueued": 1,
        "failed": 0,
    }
    assert sent == [pk]


def test_the_processing_task_drains_other_pending_events_with_its_own(connection):
    ids = deliver(connection, SENT, OPENED, CLICKED)
    assert tasks.process_webhook_event(ids[0])["processed"] == 3
    assert tasks.process_webhook_event(ids[1]) == {
        "processed": 0,
        "ignored": 0,
        "failed": 0,
        "retrying": 0,
    }


# --- reprocessing ------------------------------------------------------------------------------


def test_reprocess_requeues_only_failed_and_ignored_events(connection, monkeypatch):
    ids = deliver(connection, SENT, OPENED, CLICKED)
    with staff_scope():
        WebhookEvent.objects.filter(pk=ids[0]).update(status="failed", attempts=5)
        WebhookEvent.objects.filter(pk=ids[1]).update(status="ignored")
    with staff_scope():
        count = reprocess_events(WebhookEvent.objects.all())
    assert count == 2
    first = event(ids[0])
    assert (first.status, first.attempts, first.last_error) == ("pending", 0, "")
    assert event(ids[2]).status == "pending"


def test_an_ignored_event_is_normalised_again_when_reprocessed(connection, monkeypatch):
    from instantly.webhooks import events

    odd = with_(OPENED, event_type="campaign_started")  # listed, acted on by nothing
    [pk] = deliver(connection, odd)
    assert event(pk).status == WebhookEvent.Status.IGNORED
    monkeypatch.setitem(events.EVENT_TYPES, "campaign_started", events.EventType.OPENED)
    reprocess_events([pk])
    process()
    assert (event(pk).status, event(pk).event_type) == ("processed", "opened")
    assert stat() == {"opened": 1, "unique_opened": 1}


def test_reprocess_command_selects_by_status_ids_and_date(connection, capsys):
    ids = deliver(connection, SENT, OPENED, CLICKED)
    with staff_scope():
        WebhookEvent.objects.filter(pk__in=ids).update(status="failed")
        WebhookEvent.objects.filter(pk=ids[0]).update(received_at=NOW - dt.timedelta(days=3))
        WebhookEvent.objects.filter(pk=ids[2]).update(status="ignored")
    call_command("instantly_reprocess", "--since", "2026-03-01")
    assert "1 events queued" in capsys.readouterr().out
    assert [event(pk).status for pk in ids] == ["failed", "pending", "ignored"]
    call_command(
        "instantly_reprocess", "--status", "ignored", "--status", "failed", "--ids", str(ids[0])
    )
    assert [event(pk).status for pk in ids] == ["pending", "pending", "ignored"]
    call_command("instantly_reprocess", "--status", "ignored", "--dry-run")
    assert "1 events would be reprocessed" in capsys.readouterr().out


# --- live feed lines --------------------------------------------------------------------------


def test_replies_and_interest_changes_reach_the_customers_feed_once(org_a, org_b, org_connection):
    deliver(org_connection, SENT, REPLIED, INTERESTED)
    process()
    process(list(WebhookEvent.objects.unscoped().values_list("pk", flat=True)))  # again
    with tenant_scope(org_a.pk):
        lines = list(FeedEvent.objects.order_by("id").values_list("kind", "title", "thread_id"))
        thread_id = Thread.objects.get().pk
    assert [kind for kind, _, _ in lines] == [FeedEvent.Kind.REPLY, FeedEvent.Kind.INTEREST]
    assert lines[0][1] == "Reply from Maya Patel" and lines[0][2] == thread_id
    with tenant_scope(org_b.pk):
        assert not FeedEvent.objects.exists()


def test_a_custom_labels_feed_line_is_titled_with_the_label(org_a, org_connection):
    deliver(org_connection, with_(INTERESTED, event_type="Hot Prospect"))
    process()
    with tenant_scope(org_a.pk):
        line = FeedEvent.objects.get()
    assert line.kind == FeedEvent.Kind.INTEREST
    assert line.title == "Maya Patel: Hot Prospect"
    assert "Custom label" not in line.title and "Hot Prospect" not in line.detail


def test_a_shared_mailbox_problem_reaches_the_feed_of_each_customer_it_sends_for(
    org_a, org_b, connection
):
    with staff_scope():
        mailbox = EmailAccount.objects.create(
            connection_id=connection.pk, email=ACCOUNT_ERROR["email_account"].lower()
        )
        campaign = Campaign.objects.create(
            organization=org_a, connection_id=connection.pk, instantly_id="cmp-x"
        )
        CampaignSender.objects.create(organization=org_a, campaign=campaign, email_account=mailbox)
    deliver(connection, ACCOUNT_ERROR)
    process()
    with staff_scope():
        lines = list(FeedEvent.objects.values_list("organization_id", "kind"))
    assert lines == [(org_a.pk, FeedEvent.Kind.MAILBOX)]
