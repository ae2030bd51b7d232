"""Turning stored deliveries into campaigns, leads, messages, activity and counters.

Work is claimed with a conditional UPDATE (`status = 'pending'`, or `processing` left behind by a
worker that died) in its own short transaction, then a whole batch is applied in one
`staff_scope()` transaction: processing crosses organizations and sees the shared workspace.
If the batch fails, each event is retried alone so one bad delivery cannot hold back the rest;
an event that keeps failing goes back to `pending` with a growing delay, then ends `failed`.

Idempotence: every row written carries its source event and a unique key, and counters only
move for rows that are new. Definitions the counters follow (per campaign and UTC day of the
event's `timestamp`):

- `sent`, `replied`, `auto_replied`: new messages of that kind (an email id counts once);
- `contacted`: the first campaign email recorded in a lead's thread;
- `opened` / `clicked`: every new open or click; `unique_opened` / `unique_clicked`: the first
  open or click recorded for that lead in that campaign (so over any period the unique count is
  the number of leads who opened; with deliveries out of order, the day it lands on is the day
  of the first one *processed*);
- `unique_replied`: the first reply recorded in the lead's thread;
- `bounced`; `unsubscribed` (unsubscribes and spam reports); `interested` and
  `meetings_booked`: each time a lead is marked so.

Provider spellings stop here: this module maps normalised event types (`events.EventType`) to
domain calls in `campaigns.recording` and `messaging.recording`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.models import Notification
from accounts.tenancy import staff_scope
from campaigns import recording as campaigns
from campaigns.models import (
    Activity,
    CampaignStatus,
    InterestStatus,
    LeadStatus,
    MailboxStatus,
)
from instantly import codes
from instantly.models import Alert, WebhookEvent
from messaging import recording as messaging
from messaging.models import Message

from .events import EventType, WebhookFields, extract_fields

logger = logging.getLogger("instantly.webhooks")

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
# Wait before attempt n+1 after attempt n failed (n = 1..MAX_ATTEMPTS-1), in seconds.
RETRY_DELAYS = (30, 120, 600, 1800)
# A row still `processing` this long after its claim belongs to a worker that died.
PROCESSING_TIMEOUT = dt.timedelta(minutes=10)
# The sweeper leaves a fresh pending row to the task enqueued with it for this long.
PENDING_GRACE = dt.timedelta(minutes=1)

Status = WebhookEvent.Status
E = EventType

# --- what each normalised event type does (the instantly -> domain translation) ----------------

MESSAGE_EVENTS = {
    E.SENT: (Message.Direction.OUTBOUND, Message.Kind.CAMPAIGN),
    E.REPLIED: (Message.Direction.INBOUND, Message.Kind.REPLY),
    E.AUTO_REPLIED: (Message.Direction.INBOUND, Message.Kind.AUTO_REPLY),
}
LEAD_STATUS_EVENTS = {
    E.BOUNCED: LeadStatus.BOUNCED,
    E.UNSUBSCRIBED: LeadStatus.UNSUBSCRIBED,
    E.SPAM_REPORTED: LeadStatus.UNSUBSCRIBED,
    E.LEAD_COMPLETED: LeadStatus.COMPLETED,
    E.LEAD_ERROR: LeadStatus.ERROR,
}
INTEREST_EVENTS = {
    E.LEAD_NEUTRAL: InterestStatus.NEUTRAL,
    E.LEAD_INTERESTED: InterestStatus.INTERESTED,
    E.LEAD_NOT_INTERESTED: InterestStatus.NOT_INTERESTED,
    E.LEAD_MEETING_BOOKED: InterestStatus.MEETING_BOOKED,
    E.LEAD_MEETING_COMPLETED: InterestStatus.MEETING_COMPLETED,
    E.LEAD_CLOSED: InterestStatus.CLOSED,
    E.LEAD_OUT_OF_OFFICE: InterestStatus.OUT_OF_OFFICE,
    E.LEAD_WRONG_PERSON: InterestStatus.WRONG_PERSON,
    E.LEAD_NO_SHOW: InterestStatus.NO_SHOW,
    E.LEAD_CUSTOM_LABEL: InterestStatus.CUSTOM,
}
LEAD_ACTIVITY_EVENTS = {
    E.OPENED: Activity.Kind.OPENED,
    E.CLICKED: Activity.Kind.CLICKED,
    E.BOUNCED: Activity.Kind.BOUNCED,
    E.UNSUBSCRIBED: Activity.Kind.UNSUBSCRIBED,
    E.SPAM_REPORTED: Activity.Kind.SPAM_REPORTED,
    E.LEAD_COMPLETED: Activity.Kind.STATUS_CHANGED,
    E.LEAD_ERROR: Activity.Kind.STATUS_CHANGED,
    **dict.fromkeys(INTEREST_EVENTS, Activity.Kind.INTEREST_CHANGED),
}
CAMPAIGN_EVENTS = {
    E.CAMPAIGN_STARTED: CampaignStatus.ACTIVE,
    E.CAMPAIGN_PAUSED: CampaignStatus.PAUSED,
    E.CAMPAIGN_COMPLETED: CampaignStatus.COMPLETED,
}
# Instantly says only "error": a mailbox in error cannot send, whatever the cause.
MAILBOX_EVENTS = {
    E.ACCOUNT_ERROR: (MailboxStatus.CONNECTION_ERROR, Alert.Severity.WARNING, "in error"),
    E.ACCOUNT_SUSPENDED: (MailboxStatus.SENDING_ERROR, Alert.Severity.CRITICAL, "suspended"),
}
MAILBOX_ERROR_STATUSES = frozenset(
    {MailboxStatus.CONNECTION_ERROR, MailboxStatus.SOFT_BOUNCE_ERROR, MailboxStatus.SENDING_ERROR}
)
LEAD_EVENTS = {*MESSAGE_EVENTS, *LEAD_ACTIVITY_EVENTS}
HANDLED_EVENTS = {*LEAD_EVENTS, *CAMPAIGN_EVENTS, *MAILBOX_EVENTS}

CAMPAIGN_COUNTERS = {
    E.SENT: "sent",
    E.OPENED: "opened",
    E.CLICKED: "clicked",
    E.REPLIED: "replied",
    E.AUTO_REPLIED: "auto_replied",
    E.BOUNCED: "bounced",
    E.UNSUBSCRIBED: "unsubscribed",
    E.SPAM_REPORTED: "unsubscribed",
    E.LEAD_INTERESTED: "interested",
    E.LEAD_MEETING_BOOKED: "meetings_booked",
}
# Counted once per lead (activity) or per thread (messages): the event kind and its counter.
FIRST_OF_LEAD = {E.OPENED: "unique_opened", E.CLICKED: "unique_clicked"}
FIRST_IN_THREAD = {E.SENT: "contacted", E.REPLIED: "unique_replied"}
MAILBOX_COUNTERS = {E.SENT: "sent", E.BOUNCED: "bounced", E.REPLIED: "replied"}
NOTIFICATIONS = {
    E.LEAD_INTERESTED: (Notification.Kind.LEAD_INTERESTED, "{lead} is interested"),
    E.LEAD_MEETING_BOOKED: (Notification.Kind.MEETING_BOOKED, "Meeting booked with {lead}"),
    E.LEAD_CLOSED: (Notification.Kind.OTHER, "Deal closed with {lead}"),
}


def is_handled(event_type: str) -> bool:
    """Whether processing does anything with this type (others are stored as ignored)."""
    return event_type in HANDLED_EVENTS


# --- claiming ----------------------------------------------------------------------------------

_RETURNING = "id, connection_id, organization_id, payload, event_type, received_at, attempts"
_CLAIM_IDS = f"""
    UPDATE instantly_webhookevent
       SET status = 'processing', attempts = attempts + 1, claimed_at = %(now)s
     WHERE id = ANY(%(ids)b::bigint[])
       AND (status = 'pending' OR (status = 'processing' AND claimed_at < %(stale)s))
 RETURNING {_RETURNING}
"""  # noqa: S608
# Only first attempts are picked up alongside: a retry waits for its own delay. Rows are taken
# in id (= arrival) order after a given id: a range on the primary key stays a short index scan
# however large the table, whereas the row-level security filter hides from the planner how
# selective `status = 'pending'` is.
_CLAIM_MORE = f"""
    UPDATE instantly_webhookevent
       SET status = 'processing', attempts = attempts + 1, claimed_at = %(now)s
     WHERE id IN (SELECT id FROM instantly_webhookevent
                   WHERE status = 'pending' AND attempts = 0 AND id > %(after)s
                   ORDER BY id LIMIT %(limit)s
                   FOR UPDATE SKIP LOCKED)
       AND status = 'pending'
 RETURNING {_RETURNING}
"""  # noqa: S608


@dataclass
class ClaimedEvent:
    """A delivery this worker now owns (status `processing`)."""

    id: int
    connection_id: Any
    organization_id: Any
    payload: dict
    event_type: str
    received_at: dt.datetime
    attempts: int


def claim_events(
    ids: list[int] | None = None,
    *,
    more: int = 0,
    after: int = 0,
    now: dt.datetime | None = None,
) -> list[ClaimedEvent]:
    """Claim the given events (if pending, or abandoned mid-processing) and up to `more`
    other pending first attempts with an id above `after`, oldest first. Commits before
    returning."""
    now = now or timezone.now()
    rows: list[tuple] = []
    with staff_scope():
        _commit_without_waiting_for_disk()
        if ids:
            params = {"ids": list(ids), "now": now, "stale": now - PROCESSING_TIMEOUT}
            rows.extend(campaigns.execute(_CLAIM_IDS, params))
        if more > 0:
            params = {"limit": more, "after": after, "now": now}
            rows.extend(campaigns.execute(_CLAIM_MORE, params))
    return [
        ClaimedEvent(
            id=row[0],
            connection_id=row[1],
            organization_id=row[2],
            payload=json.loads(row[3]) if isinstance(row[3], str) else row[3],
            event_type=row[4],
            received_at=row[5],
            attempts=row[6],
        )
        for row in rows
    ]


# --- processing a batch ------------------------------------------------------------------------


@dataclass
class BatchReport:
    """What one call did; `retries` are (event id, seconds to wait) to schedule."""

    processed: int = 0
    ignored: int = 0
    failed: int = 0
    retries: list[tuple[int, int]] = field(default_factory=list)
    last_id: int | None = None  # highest event id claimed

    def add(self, other: BatchReport) -> None:
        self.processed += other.processed
        self.ignored += other.ignored
        self.failed += other.failed
        self.retries.extend(other.retries)

    @property
    def total(self) -> int:
        return self.processed + self.ignored + self.failed + len(self.retries)


def process_events(
    ids: list[int] | None = None,
    *,
    more: int = 0,
    after: int = 0,
    now: dt.datetime | None = None,
) -> BatchReport:
    """Claim and process: the body of the Celery tasks."""
    now = now or timezone.now()
    events = claim_events(ids, more=more, after=after, now=now)
    report = process_claimed(events, now=now)
    report.last_id = max((event.id for event in events), default=None)
    return report


def drain(*, batch_size: int = BATCH_SIZE, now: dt.datetime | None = None) -> BatchReport:
    """Process pending first attempts until none is left (benchmarks, management commands).

    Walks forward by id, then makes one more pass from the start for anything skipped.
    """
    report = BatchReport()
    after = 0
    while True:
        batch = process_events(more=batch_size, after=after, now=now)
        report.add(batch)
        if batch.last_id is not None:
            after = batch.last_id
        elif after:
            after = 0
        else:
            return report


def process_claimed(events: list[ClaimedEvent], *, now: dt.datetime) -> BatchReport:
    """Apply a claimed batch in one transaction; on error, each event alone."""
    report = BatchReport()
    if not events:
        return report
    try:
        batch = _Batch(events, now)
        with staff_scope():
            _commit_without_waiting_for_disk()
            batch.resolve()
        with staff_scope():
            _commit_without_waiting_for_disk()
            outcomes = batch.record()
            _finish(outcomes, now)
    except Exception as exc:  # noqa: BLE001 - whatever broke, isolate it and retry later
        if len(events) > 1:
            logger.warning("webhook batch of %s failed (%r); retrying one by one", len(events), exc)
            for event in events:
                report.add(process_claimed([event], now=now))
            return report
        return _record_failure(events[0], exc, now)
    for event in events:
        outcome = outcomes[event.id]
        logger.info(
            "webhook event %s %s (%s): %s%s",
            event.id,
            outcome.event_type,
            event.payload.get("event_type"),
            outcome.status,
            f" - {outcome.detail}" if outcome.detail else "",
        )
        if outcome.status == Status.IGNORED:
            report.ignored += 1
        else:
            report.processed += 1
    return report


def _commit_without_waiting_for_disk() -> None:
    """Processing transactions need not wait for the WAL flush: a commit lost in a database
    crash only leaves its events pending or processing, and they are processed again
    (idempotently). The receiver, which stores deliveries, keeps waiting: that is durability."""
    campaigns.execute("SET LOCAL synchronous_commit TO off")


@dataclass
class Outcome:
    status: str
    event_type: str
    detail: str = ""


def _finish(outcomes: dict[int, Outcome], now: dt.datetime) -> None:
    rows = [(pk, o.status, o.event_type, o.detail[:2000]) for pk, o in sorted(outcomes.items())]
    ids = [row[0] for row in rows]
    campaigns.execute(
        "UPDATE instantly_webhookevent e SET status = v.status, event_type = v.event_type, "
        "last_error = v.detail, processed_at = %s "
        "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[]) "
        "AS v(id, status, event_type, detail) "
        "WHERE e.id = v.id AND e.id = ANY(%b::bigint[]) AND e.status = 'processing'",
        [now, *campaigns.columns(rows, 4), ids],
    )


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def _record_failure(event: ClaimedEvent, exc: Exception, now: dt.datetime) -> BatchReport:
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    report = BatchReport()
    final = event.attempts >= MAX_ATTEMPTS
    with staff_scope():
        WebhookEvent.objects.unscoped().filter(pk=event.id, status=Status.PROCESSING).update(
            status=Status.FAILED if final else Status.PENDING, last_error=error
        )
        if final:
            campaigns.insert_rows(
                Alert,
                [
                    {
                        "organization_id": event.organization_id,
                        "kind": Alert.Kind.WEBHOOK_FAILED,
                        "title": f"Webhook event #{event.id} failed {event.attempts} times",
                        "message": error,
                        "connection_id": event.connection_id,
                        "source_event_id": event.id,
                        "created_at": now,
                    }
                ],
            )
    if final:
        logger.error("webhook event %s failed for good: %s", event.id, error)
        report.failed += 1
    else:
        delay = retry_delay(event.attempts)
        logger.warning(
            "webhook event %s failed (attempt %s), retry in %ss: %s",
            event.id,
            event.attempts,
            delay,
            error,
        )
        report.retries.append((event.id, delay))
    return report


# --- sweeping ----------------------------------------------------------------------------------


@dataclass
class Stranded:
    """Rows the sweeper must enqueue again, and rows it gave up on."""

    ids: list[int] = field(default_factory=list)
    failed: int = 0


def find_stranded(*, now: dt.datetime | None = None, limit: int = 10_000) -> Stranded:
    """Pending rows nobody picked up (broker down, task lost) past their grace or retry delay,
    and rows left `processing` by a dead worker. Abandoned rows out of attempts become failed."""
    now = now or timezone.now()
    result = Stranded()
    with staff_scope():
        rows = WebhookEvent.objects.unscoped()
        due = _pending_due(now)
        pending = rows.filter(due, status=Status.PENDING).order_by("received_at")
        result.ids.extend(pending.values_list("id", flat=True)[:limit])
        abandoned = rows.filter(status=Status.PROCESSING, claimed_at__lt=now - PROCESSING_TIMEOUT)
        result.failed = abandoned.filter(attempts__gte=MAX_ATTEMPTS).update(
            status=Status.FAILED, last_error="worker lost while processing, attempts exhausted"
        )
        result.ids.extend(abandoned.values_list("id", flat=True)[:limit])
    return result


def _pending_due(now: dt.datetime):
    from django.db.models import Q

    due = Q(attempts=0, received_at__lt=now - PENDING_GRACE)
    for attempts in range(1, MAX_ATTEMPTS):
        due |= Q(
            attempts=attempts, claimed_at__lt=now - dt.timedelta(seconds=retry_delay(attempts))
        )
    # Reset by hand with attempts left as they were: due at once.
    due |= Q(attempts__gte=MAX_ATTEMPTS, received_at__lt=now - PENDING_GRACE)
    return due


# --- the batch ---------------------------------------------------------------------------------


@dataclass
class _Item:
    """One claimed event on its way through the batch."""

    event: ClaimedEvent
    fields: WebhookFields
    at: dt.datetime
    outcome: Outcome | None = None
    campaign: campaigns.CampaignRef | None = None
    mailbox_id: int | None = None
    contact_id: int | None = None
    lead_id: int | None = None
    thread_id: int | None = None
    is_new: bool = False

    @property
    def type(self) -> str:
        return self.fields.event_type

    @property
    def org(self) -> Any:
        return self.campaign.organization_id if self.campaign else self.event.organization_id

    def finish(self, status: str, detail: str = "") -> None:
        self.outcome = Outcome(status, self.type, detail)


class _Batch:
    """Applies claimed events in time order, a phase at a time, a few statements per phase."""

    def __init__(self, events: list[ClaimedEvent], now: dt.datetime) -> None:
        self.now = now
        # What was recorded before this batch: (lead, activity kind) and (thread, message kind).
        self.lead_history: set[tuple[int, str]] = set()
        self.thread_history: set[tuple[int, str]] = set()
        self.live: list[_Item] = []
        self.leads: list[_Item] = []
        self.items = []
        for event in events:
            fields = extract_fields(event.payload)
            self.items.append(_Item(event, fields, fields.occurred_at or event.received_at))
        self.items.sort(key=lambda item: (item.at, item.event.id))

    def resolve(self) -> None:
        """Find or create what the events refer to: campaigns, mailboxes, contacts, leads,
        threads. Run in its own short transaction: these rows are harmless to keep whatever
        happens next, and committing them at once spares a concurrent worker with the same
        new contact from waiting for this whole batch."""
        self._screen()
        self.live = [item for item in self.items if item.outcome is None]
        self.leads = [item for item in self.live if item.type in LEAD_EVENTS]
        self._resolve_campaigns(self.live)
        self._resolve_mailboxes(self.live)
        self._resolve_leads(self.leads)
        self._resolve_threads([i for i in self.leads if i.type in MESSAGE_EVENTS])

    def record(self) -> dict[int, Outcome]:
        """Record what happened, in the batch's main transaction; counters come last so the
        campaign-day rows they lock are held for as short a time as possible."""
        leads = self.leads
        self._lock_leads(leads)
        self._record_messages([i for i in leads if i.type in MESSAGE_EVENTS])
        self._record_lead_activity([i for i in leads if i.type in LEAD_ACTIVITY_EVENTS])
        self._advance_leads(leads)
        self._notify([i for i in leads if i.type in NOTIFICATIONS and i.is_new])
        self._campaign_events([i for i in self.live if i.type in CAMPAIGN_EVENTS])
        self._mailbox_events([i for i in self.live if i.type in MAILBOX_EVENTS])
        self._count(leads)
        for item in self.live:
            if item.outcome is None:
                item.finish(Status.PROCESSED, "" if item.is_new else "already recorded")
        return {item.event.id: item.outcome for item in self.items}

    # -- phases --------------------------------------------------------------------------

    def _screen(self) -> None:
        """Set aside what cannot be processed: unknown types, missing or oversized keys."""
        for item in self.items:
            f = item.fields
            if item.type not in HANDLED_EVENTS:
                item.finish(Status.IGNORED, f"nothing to do for event type {item.type}")
            elif len(f.campaign_id) > 64:
                item.finish(Status.IGNORED, "campaign_id too long")
            elif item.type in LEAD_EVENTS and not f.campaign_id:
                item.finish(Status.IGNORED, "no campaign_id")
            elif item.type in LEAD_EVENTS and not (f.lead_email and len(f.lead_email) <= 254):
                item.finish(Status.IGNORED, "no usable lead email")
            elif item.type in CAMPAIGN_EVENTS and not f.campaign_id:
                item.finish(Status.IGNORED, "no campaign_id")

    def _resolve_campaigns(self, items: list[_Item]) -> None:
        wanted = {}
        for item in items:
            if item.fields.campaign_id:
                key = (item.event.connection_id, item.fields.campaign_id)
                wanted.setdefault(key, (item.fields.campaign_name, item.event.organization_id))
        found = campaigns.ensure_campaigns(wanted)
        for item in items:
            if item.fields.campaign_id:
                item.campaign = found[(item.event.connection_id, item.fields.campaign_id)]

    def _resolve_mailboxes(self, items: list[_Item]) -> None:
        wanted = {
            (item.event.connection_id, item.fields.email_account): item.event.organization_id
            for item in items
            if item.fields.email_account and len(item.fields.email_account) <= 254
        }
        found = campaigns.ensure_mailboxes(wanted)
        senders = {}
        for item in items:
            item.mailbox_id = found.get((item.event.connection_id, item.fields.email_account))
            if item.mailbox_id and item.campaign and item.type in MESSAGE_EVENTS:
                senders[(item.campaign.id, item.mailbox_id)] = item.campaign.organization_id
        campaigns.link_senders(senders)

    def _resolve_leads(self, items: list[_Item]) -> None:
        contacts: dict[tuple[Any, str], campaigns.ContactDetails] = {}
        for item in items:
            f = item.fields
            details = campaigns.ContactDetails(
                f.first_name, f.last_name, f.company_name, _flat(f.custom_variables)
            )
            key = (item.org, f.lead_email)
            if key in contacts:
                contacts[key].merge(details)
            else:
                contacts[key] = details
        contact_ids = campaigns.ensure_contacts(contacts)
        for item in items:
            item.contact_id = contact_ids[(item.org, item.fields.lead_email)]
        lead_ids = campaigns.ensure_leads(
            {(item.campaign.id, item.contact_id): item.org for item in items}
        )
        last_contact: dict[int, dt.datetime] = {}
        for item in items:
            item.lead_id = lead_ids[(item.campaign.id, item.contact_id)]
            last_contact[item.contact_id] = max(item.at, last_contact.get(item.contact_id, item.at))
        # Here rather than with the leads: a contact shared by several campaigns would make
        # workers wait on each other for a whole batch.
        campaigns.touch_contacts(last_contact)

    def _resolve_threads(self, items: list[_Item]) -> None:
        threads = messaging.ensure_threads(
            {
                (item.campaign.id, item.contact_id): messaging.ThreadSeed(
                    item.org, item.lead_id, item.fields.subject, item.fields.thread_id
                )
                for item in reversed(items)  # the earliest event's subject wins
            }
        )
        for item in items:
            item.thread_id = threads[(item.campaign.id, item.contact_id)]

    def _lock_leads(self, items: list[_Item]) -> None:
        """Lock every lead of the batch (and move its last activity forward): from here on,
        "is this the lead's first open?" cannot be answered twice by two workers."""
        last_lead: dict[int, dt.datetime] = {}
        for item in items:
            last_lead[item.lead_id] = max(item.at, last_lead.get(item.lead_id, item.at))
        campaigns.touch_leads(last_lead)

    def _record_messages(self, items: list[_Item]) -> None:
        if not items:
            return
        self.thread_history = messaging.thread_history(
            {item.thread_id for item in items}, [Message.Kind.CAMPAIGN, Message.Kind.REPLY]
        )
        done = messaging.events_with_messages(item.event.id for item in items)
        new = messaging.record_messages(
            [self._message(item) for item in items if item.event.id not in done]
        )
        changes: dict[int, messaging.ThreadChange] = defaultdict(messaging.ThreadChange)
        for item in items:
            item.is_new = item.event.id in new
            if item.is_new:
                direction, kind = MESSAGE_EVENTS[item.type]
                change = changes[item.thread_id]
                change.lead_id = item.lead_id
                change.instantly_thread_id = change.instantly_thread_id or item.fields.thread_id
                change.add(
                    item.at,
                    inbound=direction == Message.Direction.INBOUND,
                    reply=kind == Message.Kind.REPLY,
                    subject=item.fields.subject,
                )
        messaging.update_threads(changes)

    def _message(self, item: _Item) -> dict[str, Any]:
        f = item.fields
        direction, kind = MESSAGE_EVENTS[item.type]
        outbound = direction == Message.Direction.OUTBOUND
        return {
            "organization_id": item.org,
            "thread_id": item.thread_id,
            "campaign_id": item.campaign.id,
            "contact_id": item.contact_id,
            "email_account_id": item.mailbox_id,
            "direction": direction,
            "kind": kind,
            "instantly_email_id": f.email_id[:64],
            "subject": f.subject[:500],
            "body_text": f.text,
            "body_html": f.html,
            "snippet": f.snippet[:500],
            "from_email": (f.email_account if outbound else f.lead_email)[:254],
            "to_email": (f.lead_email if outbound else f.email_account)[:254],
            "step": _small(f.step),
            "variant": _small(f.variant),
            "sent_at": item.at,
            "is_unread": kind == Message.Kind.REPLY,
            "raw": {},
            "source_event_id": item.event.id,
            "created_at": self.now,
        }

    def _record_lead_activity(self, items: list[_Item]) -> None:
        if not items:
            return
        self.lead_history = campaigns.leads_with_activity(
            {item.lead_id for item in items if item.type in FIRST_OF_LEAD},
            [LEAD_ACTIVITY_EVENTS[t] for t in FIRST_OF_LEAD],
        )
        new = campaigns.record_activities(
            [self._activity(item, LEAD_ACTIVITY_EVENTS[item.type], lead=True) for item in items]
        )
        for item in items:
            item.is_new = (item.event.id, LEAD_ACTIVITY_EVENTS[item.type]) in new

    def _activity(self, item: _Item, kind: str, *, lead: bool, **data: Any) -> dict[str, Any]:
        f = item.fields
        if f.label:
            data["label"] = f.label
        if item.type in LEAD_STATUS_EVENTS:
            data["status"] = LEAD_STATUS_EVENTS[item.type]
        if item.type in INTEREST_EVENTS:
            data["interest_status"] = INTEREST_EVENTS[item.type]
        return {
            "organization_id": item.org,
            "kind": kind,
            "occurred_at": item.at,
            "campaign_id": item.campaign.id if item.campaign else None,
            "lead_id": item.lead_id if lead else None,
            "contact_id": item.contact_id if lead else None,
            "email_account_id": item.mailbox_id,
            "step": _small(f.step),
            "variant": _small(f.variant),
            "data": {"event_type": f.raw_event_type, **data},
            "source_event_id": item.event.id,
        }

    def _advance_leads(self, items: list[_Item]) -> None:
        """Latest state per lead in this batch; the database keeps it only if newer."""
        statuses: dict[int, tuple[str, dt.datetime]] = {}
        interests: dict[int, tuple[str, str, dt.datetime]] = {}
        for item in items:  # time order: later items overwrite earlier ones
            if item.type in LEAD_STATUS_EVENTS:
                statuses[item.lead_id] = (LEAD_STATUS_EVENTS[item.type], item.at)
            elif item.type in INTEREST_EVENTS:
                interests[item.lead_id] = (
                    INTEREST_EVENTS[item.type],
                    item.fields.label[:120],
                    item.at,
                )
        campaigns.advance_lead_status(statuses)
        campaigns.advance_lead_interest(interests)

    def _count(self, items: list[_Item]) -> None:
        counts: dict[tuple[Any, dt.date], Counter] = defaultdict(Counter)
        mailbox_counts: dict[tuple[int, dt.date], Counter] = defaultdict(Counter)
        org_of_campaign, org_of_mailbox = {}, {}
        first_of_lead = set(self.lead_history)
        first_in_thread = set(self.thread_history)
        for item in items:
            if not item.is_new:
                continue
            day = item.at.astimezone(dt.UTC).date()
            tally = counts[(item.campaign.id, day)]
            org_of_campaign[item.campaign.id] = item.campaign.organization_id
            if item.type in CAMPAIGN_COUNTERS:
                tally[CAMPAIGN_COUNTERS[item.type]] += 1
            if item.type in FIRST_OF_LEAD:
                key = (item.lead_id, LEAD_ACTIVITY_EVENTS[item.type])
                if key not in first_of_lead:
                    first_of_lead.add(key)
                    tally[FIRST_OF_LEAD[item.type]] += 1
            if item.type in FIRST_IN_THREAD:
                key = (item.thread_id, MESSAGE_EVENTS[item.type][1])
                if key not in first_in_thread:
                    first_in_thread.add(key)
                    tally[FIRST_IN_THREAD[item.type]] += 1
            if item.type in MAILBOX_COUNTERS and item.mailbox_id:
                mailbox_counts[(item.mailbox_id, day)][MAILBOX_COUNTERS[item.type]] += 1
                org_of_mailbox[item.mailbox_id] = item.event.organization_id
        campaigns.add_campaign_counts(counts, org_of_campaign)
        campaigns.add_mailbox_counts(mailbox_counts, org_of_mailbox)

    def _notify(self, items: list[_Item]) -> None:
        """Tell the customer about positive replies; unassigned (shared) campaigns have none."""
        notes = []
        for item in items:
            if item.org is None:
                continue
            kind, title = NOTIFICATIONS[item.type]
            f = item.fields
            who = " ".join(filter(None, (f.first_name, f.last_name))) or f.lead_email
            notes.append(
                {
                    "organization_id": item.org,
                    "kind": kind,
                    "title": title.format(lead=who)[:300],
                    "body": f"{f.lead_email} in {f.campaign_name or f.campaign_id}",
                    "campaign_id": item.campaign.id,
                    "lead_id": item.lead_id,
                    "source_event_id": item.event.id,
                    "created_at": self.now,
                }
            )
        campaigns.insert_rows(Notification, notes)

    def _campaign_events(self, items: list[_Item]) -> None:
        if not items:
            return
        new = campaigns.record_activities(
            [self._activity(i, Activity.Kind.CAMPAIGN_CHANGED, lead=False) for i in items]
        )
        for item in items:
            item.is_new = (item.event.id, Activity.Kind.CAMPAIGN_CHANGED) in new
            campaigns.record_campaign_status(item.campaign.id, CAMPAIGN_EVENTS[item.type], item.at)

    def _mailbox_events(self, items: list[_Item]) -> None:
        if not items:
            return
        alerts, activities = [], []
        for item in items:
            status, severity, what = MAILBOX_EVENTS[item.type]
            # A numeric mailbox status in the payload (undocumented) is more precise.
            coded = codes.mailbox_status(item.event.payload.get("status"))
            status = coded if coded in MAILBOX_ERROR_STATUSES else status
            f = item.fields
            message = f.error_message or f"Instantly reported {f.raw_event_type}"
            if item.mailbox_id:
                campaigns.mark_mailbox_error(
                    item.mailbox_id,
                    status=status,
                    message=message,
                    status_message=f.status_message,
                    at=item.at,
                )
            # Staff matter: the alert and activity belong to the connection's organization.
            item.campaign = None
            activities.append(
                self._activity(item, Activity.Kind.ACCOUNT_ERROR, lead=False, message=message)
            )
            alerts.append(
                {
                    "organization_id": item.event.organization_id,
                    "kind": Alert.Kind.ACCOUNT_ERROR,
                    "severity": severity,
                    "title": f"Mailbox {f.email_account or '(unknown)'} {what}"[:300],
                    "message": message,
                    "connection_id": item.event.connection_id,
                    "email_account_id": item.mailbox_id,
                    "source_event_id": item.event.id,
                    "created_at": self.now,
                }
            )
        new = campaigns.record_activities(activities)
        campaigns.insert_rows(Alert, alerts)
        for item in items:
            item.is_new = (item.event.id, Activity.Kind.ACCOUNT_ERROR) in new


def _small(value: int | None) -> int | None:
    """Step and variant are small positive numbers; anything else is not worth a crash."""
    return value if value is not None and 0 <= value <= 32767 else None


def _flat(variables: dict[str, Any]) -> dict[str, Any]:
    """Custom variables are flat strings; keep scalars only."""
    return {
        k[:100]: v
        for k, v in variables.items()
        if isinstance(v, str | int | float | bool) or v is None
    }
