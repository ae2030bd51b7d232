"""Applying stored deliveries to the domain: campaigns, leads, messages, activity, counters.

A `Batch` takes events in time order and applies them a phase at a time, a few statements per
phase: `resolve` finds or creates what they refer to (campaigns, mailboxes, contacts, leads,
threads), `record` writes what happened and moves the counters (definitions in `effects`). The
queue (`queue`) owns the transactions, the claiming and the retries around it.

Idempotence: every row written carries its source event and a unique key, and counters only
move for rows that are new, so applying an event twice changes nothing. Provider spellings stop
before this module: it maps normalised event types (`events.EventType`), through the tables in
`effects`, to domain calls in `campaigns.recording` and `messaging.recording`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from campaigns import recording as campaigns
from campaigns.models import Activity
from instantly import codes
from instantly.models import Alert, WebhookEvent
from messaging import recording as messaging
from messaging import reply_categories as categorised
from messaging.feed import record_feed_events
from messaging.models import FeedEvent, Message, Notification
from messaging.scoring import store as scoring
from salesbrain import bulk

from .effects import (
    CAMPAIGN_COUNTERS,
    CAMPAIGN_EVENTS,
    FEED_EVENTS,
    FIRST_IN_THREAD,
    FIRST_OF_LEAD,
    HANDLED_EVENTS,
    INTEREST_EVENTS,
    LABEL_MEANING_EVENTS,
    LEAD_ACTIVITY_EVENTS,
    LEAD_EVENTS,
    LEAD_STATUS_EVENTS,
    MAILBOX_COUNTERS,
    MAILBOX_ERROR_STATUSES,
    MAILBOX_EVENTS,
    MESSAGE_EVENTS,
    NOTIFICATIONS,
    SCORE_EVENTS,
)
from .events import EventType, WebhookFields, extract_fields
from .feed_lines import feed_line

Status = WebhookEvent.Status


@dataclass
class StoredEvent:
    """The columns of a stored delivery (`WebhookEvent` row) that applying it reads."""

    id: int
    connection_id: Any
    organization_id: Any
    payload: dict
    received_at: dt.datetime


@dataclass
class Outcome:
    """How applying one event ended: its final status, type and a note for staff."""

    status: str
    event_type: str
    detail: str = ""


@dataclass
class _Item:
    """One claimed event on its way through the batch."""

    event: StoredEvent
    fields: WebhookFields
    at: dt.datetime
    outcome: Outcome | None = None
    campaign: campaigns.CampaignRef | None = None
    mailbox_id: int | None = None
    contact_id: int | None = None
    lead_id: int | None = None
    thread_id: int | None = None
    is_new: bool = False
    # A custom label's meaning (positive, negative, neutral) from the connection's lead labels;
    # "" when the label is not (yet) known from GET /lead-labels.
    label_meaning: str = ""

    @property
    def type(self) -> str:
        return self.fields.event_type

    @property
    def interest_type(self) -> str:
        """The built-in interest event a custom label stands for by its meaning (a positive
        label counts and notifies like "interested"); any other event is itself."""
        if self.type == EventType.LEAD_CUSTOM_LABEL:
            return LABEL_MEANING_EVENTS.get(self.label_meaning, self.type)
        return self.type

    @property
    def org(self) -> Any:
        return self.campaign.organization_id if self.campaign else self.event.organization_id

    def finish(self, status: str, detail: str = "") -> None:
        self.outcome = Outcome(status, self.type, detail)


class Batch:
    """Applies claimed events in time order, a phase at a time, a few statements per phase."""

    def __init__(self, events: list[StoredEvent], now: dt.datetime) -> None:
        self.now = now
        # What was recorded before this batch: (lead, activity kind) and (thread, message kind).
        self.lead_history: set[tuple[int, str]] = set()
        self.thread_history: set[tuple[int, str]] = set()
        self.live: list[_Item] = []
        # What delivery must hear about once the batch is committed (`queue._announce`).
        self.notified_organizations: set = set()
        self.raised_alerts = False
        self.leads: list[_Item] = []
        self.replies: list[categorised.CategorisedReply] = []
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
        self._resolve_label_meanings(self.leads)

    def record(self) -> dict[int, Outcome]:
        """Record what happened, in the batch's main transaction; counters come last so the
        campaign-day rows they lock are held for as short a time as possible."""
        leads = self.leads
        self._lock_leads(leads)
        self._record_messages([i for i in leads if i.type in MESSAGE_EVENTS])
        self._record_lead_activity([i for i in leads if i.type in LEAD_ACTIVITY_EVENTS])
        self._advance_leads(leads)
        self._notify([i for i in leads if i.interest_type in NOTIFICATIONS and i.is_new])
        self.notified_organizations.update(categorised.after_recording(self.replies, self.now))
        self._score(leads)
        self._campaign_events([i for i in self.live if i.type in CAMPAIGN_EVENTS])
        self._mailbox_events([i for i in self.live if i.type in MAILBOX_EVENTS])
        self._feed([i for i in self.live if i.type in FEED_EVENTS and i.is_new])
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

    def _resolve_label_meanings(self, items: list[_Item]) -> None:
        labelled = [item for item in items if item.type == EventType.LEAD_CUSTOM_LABEL]
        meanings = campaigns.label_meanings(
            (item.event.connection_id, item.fields.label) for item in labelled
        )
        for item in labelled:
            key = (item.event.connection_id, item.fields.label.strip().lower())
            item.label_meaning = meanings.get(key, "")

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
        rows = {item.event.id: self._message(item) for item in items if item.event.id not in done}
        new = messaging.record_messages(list(rows.values()))
        changes: dict[int, messaging.ThreadChange] = defaultdict(messaging.ThreadChange)
        for item in items:
            item.is_new = item.event.id in new
            if item.is_new:
                direction, kind = MESSAGE_EVENTS[item.type]
                if direction == Message.Direction.INBOUND:
                    self.replies.append(self._categorised(item, new[item.event.id], rows))
                change = changes[item.thread_id]
                change.lead_id = item.lead_id
                change.instantly_thread_id = change.instantly_thread_id or item.fields.thread_id
                change.add(
                    item.at,
                    inbound=direction == Message.Direction.INBOUND,
                    reply=kind == Message.Kind.REPLY,
                    subject=item.fields.subject,
                    counted=item.event.id not in new.adopted,
                )
        messaging.update_threads(changes)

    def _message(self, item: _Item) -> dict[str, Any]:
        f = item.fields
        direction, kind = MESSAGE_EVENTS[item.type]
        outbound = direction == Message.Direction.OUTBOUND
        # A reply is stored with its category (it costs about a millisecond on the CPU).
        category = {} if outbound else categorised.category_fields(
            subject=f.subject, text=f.text, html=f.html, sent_at=item.at, from_email=f.lead_email,
            now=self.now,
        )  # fmt: skip
        return {
            **category,
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

    def _categorised(self, item: _Item, message_id: int, rows) -> categorised.CategorisedReply:
        row, f = rows.get(item.event.id, {}), item.fields
        return categorised.CategorisedReply(
            message_id=message_id, organization_id=item.org, thread_id=item.thread_id,
            lead_id=item.lead_id, campaign_id=item.campaign.id, email=f.lead_email,
            category=row.get("category", ""), confidence=row.get("category_confidence") or 0.0,
            returns_on=row.get("returns_on"), at=item.at, source_event_id=item.event.id,
            lead_name=" ".join(filter(None, (f.first_name, f.last_name))),
        )  # fmt: skip

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
            if item.label_meaning:
                data["label_meaning"] = item.label_meaning
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

    def _score(self, items: list[_Item]) -> None:
        """New opens, clicks, meetings and human replies move their leads' scores; every lead
        of the batch is re-read (a bounce or an unsubscribe puts it at 0)."""
        events = []
        categories = {r.source_event_id: r.category for r in self.replies}
        for item in items:
            if not item.is_new:
                continue
            if item.type in SCORE_EVENTS:
                events.append(scoring.LeadEvent(item.lead_id, SCORE_EVENTS[item.type], item.at))
            elif item.type == EventType.REPLIED:
                kind = "reply:" + categories.get(item.event.id, "")
                events.append(scoring.LeadEvent(item.lead_id, kind, item.at))
        scoring.apply_events(events, self.now, refresh={item.lead_id for item in items})

    def _count(self, items: list[_Item]) -> None:
        counts: dict[tuple[Any, dt.date], Counter] = defaultdict(Counter)
        mailbox_counts: dict[tuple[int, Any, dt.date], Counter] = defaultdict(Counter)
        org_of_campaign = {}
        first_of_lead = set(self.lead_history)
        first_in_thread = set(self.thread_history)
        for item in items:
            if not item.is_new:
                continue
            day = item.at.astimezone(dt.UTC).date()
            tally = counts[(item.campaign.id, day)]
            org_of_campaign[item.campaign.id] = item.campaign.organization_id
            if item.interest_type in CAMPAIGN_COUNTERS:
                tally[CAMPAIGN_COUNTERS[item.interest_type]] += 1
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
                key = (item.mailbox_id, item.campaign.id, day)
                mailbox_counts[key][MAILBOX_COUNTERS[item.type]] += 1
        campaigns.add_campaign_counts(counts, org_of_campaign)
        campaigns.add_mailbox_counts(mailbox_counts, org_of_campaign)

    def _notify(self, items: list[_Item]) -> None:
        """Tell the customer about positive replies; unassigned (shared) campaigns have none."""
        notes = []
        for item in items:
            if item.org is None:
                continue
            kind, title = NOTIFICATIONS[item.interest_type]
            f = item.fields
            who = " ".join(filter(None, (f.first_name, f.last_name))) or f.lead_email
            title = title.format(lead=who) + (f" ({f.label})" if f.label else "")
            notes.append(
                {
                    "organization_id": item.org,
                    "kind": kind,
                    "title": title[:300],
                    "body": f"{f.lead_email} in {f.campaign_name or f.campaign_id}",
                    "campaign_id": item.campaign.id,
                    "lead_id": item.lead_id,
                    "source_event_id": item.event.id,
                    "created_at": self.now,
                }
            )
        bulk.insert_rows(Notification, notes)
        self.notified_organizations.update(note["organization_id"] for note in notes)

    def _feed(self, items: list[_Item]) -> None:
        """Lines for the live feed of each organization concerned: a lead's campaign's
        organization, or every customer whose campaigns send from a failing mailbox."""
        customers = campaigns.customers_of_mailboxes(
            i.mailbox_id for i in items if FEED_EVENTS[i.type][0] == FeedEvent.Kind.MAILBOX
        )
        # A reply's line says what it is: "Interested 93%", "Out of office · back on 2 Dec".
        categories = {r.source_event_id: categorised.describe(r) for r in self.replies}
        rows = []
        for item in items:
            kind, title = FEED_EVENTS[item.type]
            if kind == FeedEvent.Kind.MAILBOX:
                orgs = customers.get(item.mailbox_id, set())
            else:
                orgs = {item.org} - {None}
            note = categories.get(item.event.id, "")
            rows += [
                feed_line(item, org, kind, title, self.now, note=note)
                for org in sorted(orgs, key=str)
            ]
        record_feed_events(rows)

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
        customers = campaigns.customers_of_mailboxes(i.mailbox_id for i in items)
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
                    "customer_ids": sorted(map(str, customers.get(item.mailbox_id, ()))),
                    "source_event_id": item.event.id,
                    "created_at": self.now,
                }
            )
        new = campaigns.record_activities(activities)
        bulk.insert_rows(Alert, alerts)
        self.raised_alerts = self.raised_alerts or bool(alerts)
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
