"""What each normalised event type does to the domain: the instantly -> domain translation.

Provider spellings stop in `events`; from here on an event is an `events.EventType`, and these
tables say which domain record it becomes (a message, a lead activity, a lead or campaign
status, a mailbox error, a notification) and which daily counters it moves. `apply` follows
them; `ingest` asks `is_handled` to store types nobody handles as ignored.

Counters (per campaign and UTC day of the event's `timestamp`):

- `sent`, `replied`, `auto_replied`: new messages of that kind (an email id counts once);
- `contacted`: the first campaign email recorded in a lead's thread;
- `opened` / `clicked`: every new open or click; `unique_opened` / `unique_clicked`: the first
  open or click recorded for that lead in that campaign (so over any period the unique count is
  the number of leads who opened; with deliveries out of order, the day it lands on is the day
  of the first one *processed*);
- `unique_replied`: the first reply recorded in the lead's thread;
- `bounced`; `unsubscribed` (unsubscribes and spam reports); `interested` and
  `meetings_booked`: each time a lead is marked so.
"""

from __future__ import annotations

from campaigns.models import Activity, CampaignStatus, InterestStatus, LeadStatus, MailboxStatus
from instantly.models import Alert
from messaging.models import FeedEvent, Message, Notification

from .events import EventType

E = EventType

MESSAGE_EVENTS = {
    E.SENT: (Message.Direction.OUTBOUND, Message.Kind.CAMPAIGN),
    E.REPLIED: (Message.Direction.INBOUND, Message.Kind.REPLY),
    E.AUTO_REPLIED: (Message.Direction.INBOUND, Message.Kind.AUTO_REPLY),
}
LEAD_STATUS_EVENTS = {
    E.BOUNCED: LeadStatus.BOUNCED,
    E.UNSUBSCRIBED: LeadStatus.UNSUBSCRIBED,
    E.SPAM_REPORTED: LeadStatus.UNSUBSCRIBED,
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
    **dict.fromkeys(INTEREST_EVENTS, Activity.Kind.INTEREST_CHANGED),
}
# Only Instantly's documented `campaign_completed`: the seed's `campaign_started` and
# `campaign_paused` are no Instantly event, so they are stored and ignored, and a campaign's
# state comes from the sync. `lead_completed` and `lead_error` likewise (no documented event
# means them; the lead's status comes from Instantly's lead list).
CAMPAIGN_EVENTS = {
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
# Lead-score events (`messaging.scoring`); a reply scores by its category.
SCORE_EVENTS = {
    E.OPENED: "opened",
    E.CLICKED: "clicked",
    E.LEAD_MEETING_BOOKED: "meeting_booked",
    E.LEAD_MEETING_COMPLETED: "meeting_completed",
}
NOTIFICATIONS = {
    E.LEAD_INTERESTED: (Notification.Kind.LEAD_INTERESTED, "{lead} is interested"),
    E.LEAD_MEETING_BOOKED: (Notification.Kind.MEETING_BOOKED, "Meeting booked with {lead}"),
    E.LEAD_CLOSED: (Notification.Kind.OTHER, "Deal closed with {lead}"),
}


# A custom lead label counts by its meaning (GET /lead-labels `interest_status_label`), like
# the built-in event of that meaning; its interest status stays the label itself.
LABEL_MEANING_EVENTS = {
    "positive": E.LEAD_INTERESTED,
    "negative": E.LEAD_NOT_INTERESTED,
    "neutral": E.LEAD_NEUTRAL,
}


def is_handled(event_type: str) -> bool:
    """Whether processing does anything with this type (others are stored as ignored)."""
    return event_type in HANDLED_EVENTS


# What reaches an organization's live feed: the kind of line and its title ({lead} is the
# lead's name or address, {mailbox} the mailbox's address, {label} a custom label's text).
FEED_EVENTS = {
    E.REPLIED: (FeedEvent.Kind.REPLY, "Reply from {lead}"),
    E.BOUNCED: (FeedEvent.Kind.BOUNCE, "Email to {lead} bounced"),
    **{
        event: (FeedEvent.Kind.INTEREST, "{lead}: " + str(InterestStatus(status).label))
        for event, status in INTEREST_EVENTS.items()
    },
    # A custom label's line says the label itself ("Maya Patel: Hot Prospect"), not "Custom label".
    E.LEAD_CUSTOM_LABEL: (FeedEvent.Kind.INTEREST, "{lead}: {label}"),
    E.LEAD_MEETING_BOOKED: (FeedEvent.Kind.MEETING, "Meeting booked with {lead}"),
    **{
        event: (FeedEvent.Kind.MAILBOX, "Mailbox {mailbox} " + what)
        for event, (_, _, what) in MAILBOX_EVENTS.items()
    },
}
