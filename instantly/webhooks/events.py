"""Instantly's delivered event spellings, and the fields of its flat payloads, normalised.

Like django-anymail's `EventType`, every spelling Instantly may deliver maps to one normalised
type through one dictionary (`EVENT_TYPES`): the subscription names, the alternates seen in real
deliveries (`link_clicked`, `auto_reply_received`) and the older names of the original system.
A custom lead label arrives with the label text itself as `event_type`, spelled as its owner
typed it ("Hot Prospect", `follow_up`, `hot_lead`): every value that is not one of the listed
spellings is such a label, never an ignored unknown type.

The original system's names (`campaign_started`, `lead_completed`, ...) are not in Instantly's
documented list. They stay listed so they are never taken for labels; those that mean a
documented event act like it (`email_clicked` is a click), the others (`campaign_started`,
`campaign_paused`, `lead_completed`, `lead_error`) are stored and ignored: campaign state comes
from the sync (`effects`).

`extract_fields` reads one flat payload defensively: `lead_email` or `email`, numbers that arrive
as strings ("2"), `is_first` that may be absent, and the lead's custom variables merged in as
extra top-level keys (often camelCase: `firstName`, `companyName`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import models

from instantly.timestamps import sane_timestamp
from salesbrain.parsing import as_int


class EventType(models.TextChoices):
    """What happened, in Salesbrain's words; stored in `WebhookEvent.event_type`."""

    SENT = "sent", "Email sent"
    OPENED = "opened", "Email opened"
    CLICKED = "clicked", "Link clicked"
    REPLIED = "replied", "Reply received"
    AUTO_REPLIED = "auto_replied", "Automatic reply received"
    BOUNCED = "bounced", "Email bounced"
    UNSUBSCRIBED = "unsubscribed", "Lead unsubscribed"
    SPAM_REPORTED = "spam_reported", "Reported as spam"
    LEAD_COMPLETED = "lead_completed", "Lead completed the sequence"
    LEAD_ERROR = "lead_error", "Lead in error"
    LEAD_NEUTRAL = "lead_neutral", "Lead neutral"
    LEAD_INTERESTED = "lead_interested", "Lead interested"
    LEAD_NOT_INTERESTED = "lead_not_interested", "Lead not interested"
    LEAD_MEETING_BOOKED = "lead_meeting_booked", "Meeting booked"
    LEAD_MEETING_COMPLETED = "lead_meeting_completed", "Meeting completed"
    LEAD_CLOSED = "lead_closed", "Lead closed (won)"
    LEAD_OUT_OF_OFFICE = "lead_out_of_office", "Lead out of office"
    LEAD_WRONG_PERSON = "lead_wrong_person", "Wrong person"
    LEAD_NO_SHOW = "lead_no_show", "No show"
    LEAD_CUSTOM_LABEL = "lead_custom_label", "Custom lead label"
    CAMPAIGN_STARTED = "campaign_started", "Campaign started"
    CAMPAIGN_PAUSED = "campaign_paused", "Campaign paused"
    CAMPAIGN_COMPLETED = "campaign_completed", "Campaign completed"
    ACCOUNT_ERROR = "account_error", "Mailbox error"
    ACCOUNT_SUSPENDED = "account_suspended", "Mailbox suspended"
    ENRICHMENT_COMPLETED = "enrichment_completed", "SuperSearch enrichment completed"
    UNKNOWN = "unknown", "Unknown"


# Every delivered spelling (lower case) -> normalised type. The one place that knows them.
EVENT_TYPES: dict[str, EventType] = {
    # Subscription values (Instantly's documented names).
    "email_sent": EventType.SENT,
    "email_opened": EventType.OPENED,
    "email_link_clicked": EventType.CLICKED,
    "reply_received": EventType.REPLIED,
    "email_bounced": EventType.BOUNCED,
    "lead_unsubscribed": EventType.UNSUBSCRIBED,
    "campaign_completed": EventType.CAMPAIGN_COMPLETED,
    "account_error": EventType.ACCOUNT_ERROR,
    "lead_neutral": EventType.LEAD_NEUTRAL,
    "lead_interested": EventType.LEAD_INTERESTED,
    "lead_not_interested": EventType.LEAD_NOT_INTERESTED,
    "lead_meeting_booked": EventType.LEAD_MEETING_BOOKED,
    "lead_meeting_completed": EventType.LEAD_MEETING_COMPLETED,
    "lead_closed": EventType.LEAD_CLOSED,
    "lead_out_of_office": EventType.LEAD_OUT_OF_OFFICE,
    "lead_wrong_person": EventType.LEAD_WRONG_PERSON,
    "lead_no_show": EventType.LEAD_NO_SHOW,
    "supersearch_enrichment_completed": EventType.ENRICHMENT_COMPLETED,
    # Alternates seen in real deliveries.
    "link_clicked": EventType.CLICKED,
    "auto_reply_received": EventType.AUTO_REPLIED,
    # Older names of the original system.
    "email_clicked": EventType.CLICKED,
    "email_unsubscribed": EventType.UNSUBSCRIBED,
    "email_spam_report": EventType.SPAM_REPORTED,
    "lead_completed": EventType.LEAD_COMPLETED,
    "lead_error": EventType.LEAD_ERROR,
    "campaign_started": EventType.CAMPAIGN_STARTED,
    "campaign_paused": EventType.CAMPAIGN_PAUSED,
    "account_suspended": EventType.ACCOUNT_SUSPENDED,
}

CUSTOM_LABEL_MAX_LENGTH = 120


def normalise_event_type(raw: Any) -> EventType:
    """The normalised type of one delivered `event_type` value (UNKNOWN if unrecognisable)."""
    if not isinstance(raw, str):
        return EventType.UNKNOWN
    text = raw.strip()
    known = EVENT_TYPES.get(text.lower())
    if known is not None:
        return known
    if is_custom_label(text):
        return EventType.LEAD_CUSTOM_LABEL
    return EventType.UNKNOWN


def is_custom_label(text: str) -> bool:
    """A label someone named in Instantly ("Hot Prospect", "follow_up"): any printable name
    that is not a listed spelling. Instantly sends a label's name as-is, so a machine-looking
    name is no sign of an event type we do not know (a subscription with no event_type gets
    exactly these deliveries)."""
    text = text.strip()
    return (
        0 < len(text) <= CUSTOM_LABEL_MAX_LENGTH
        and text.isprintable()
        and text.lower() not in EVENT_TYPES
    )


# --- payload fields ----------------------------------------------------------------------------

# Top-level keys Instantly defines; every other key is one of the lead's custom variables.
KNOWN_FIELDS = frozenset(
    {
        "timestamp", "event_type", "workspace", "campaign_id", "campaign_name", "lead_email",
        "email", "email_account", "step", "variant", "is_first", "email_id", "unibox_url",
        "email_subject", "email_text", "email_html", "reply_subject", "reply_text",
        "reply_html", "reply_text_snippet", "error_message", "error", "message",
        "status_message", "reason", "thread_id",
    }
)  # fmt: skip
FIRST_NAME_KEYS = ("firstName", "first_name", "FirstName")
LAST_NAME_KEYS = ("lastName", "last_name", "LastName")
COMPANY_KEYS = ("companyName", "company_name", "CompanyName", "company")
ERROR_KEYS = ("error_message", "error", "message", "reason")
# The Unibox link carries the thread id (...?thread_search=thread:<id>) or, in older deliveries,
# the lead's address (...?thread_search=<lead email>): that one names no thread, and the message
# threads by its campaign and lead like every other (`apply`).
_UNIBOX_THREAD = re.compile(r"thread_search=thread(?::|%3A)([A-Za-z0-9_-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class WebhookFields:
    """What one flat payload says, typed; missing values are None or empty."""

    event_type: EventType
    raw_event_type: str
    occurred_at: datetime | None
    workspace_id: str = ""
    campaign_id: str = ""
    campaign_name: str = ""
    lead_email: str = ""
    email_account: str = ""
    step: int | None = None
    variant: int | None = None
    is_first: bool | None = None
    email_id: str = ""
    unibox_url: str = ""
    thread_id: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    snippet: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    error_message: str = ""
    status_message: dict | None = None
    custom_variables: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The custom label text (the raw event type) of a custom-label event."""
        return self.raw_event_type.strip() if self.event_type == EventType.LEAD_CUSTOM_LABEL else ""


def extract_fields(payload: dict[str, Any]) -> WebhookFields:
    """Read one delivery. Never raises on odd values: they come out as None or ''."""
    event_type = normalise_event_type(payload.get("event_type"))
    variables = {k: v for k, v in payload.items() if k not in KNOWN_FIELDS}
    is_reply = event_type in (EventType.REPLIED, EventType.AUTO_REPLIED)
    prefix = "reply_" if is_reply else "email_"
    text = as_text(payload.get(f"{prefix}text"))
    status_message = payload.get("status_message")
    unibox_url = as_text(payload.get("unibox_url"))
    return WebhookFields(
        event_type=event_type,
        raw_event_type=as_text(payload.get("event_type")),
        occurred_at=parse_timestamp(payload.get("timestamp")),
        workspace_id=as_text(payload.get("workspace")),
        campaign_id=as_text(payload.get("campaign_id")),
        campaign_name=as_text(payload.get("campaign_name")),
        lead_email=normalise_email(payload.get("lead_email") or payload.get("email")),
        email_account=normalise_email(payload.get("email_account")),
        step=as_int(payload.get("step")),
        variant=as_int(payload.get("variant")),
        is_first=as_bool(payload.get("is_first")),
        email_id=as_text(payload.get("email_id")),
        unibox_url=unibox_url,
        thread_id=as_text(payload.get("thread_id")) or _unibox_thread(unibox_url),
        subject=as_text(payload.get(f"{prefix}subject")),
        text=text,
        html=as_text(payload.get(f"{prefix}html")),
        snippet=as_text(payload.get("reply_text_snippet")) or text[:200],
        first_name=_first(variables, FIRST_NAME_KEYS),
        last_name=_first(variables, LAST_NAME_KEYS),
        company_name=_first(variables, COMPANY_KEYS),
        error_message=_error_message(payload),
        status_message=status_message if isinstance(status_message, dict) else None,
        custom_variables=variables,
    )


def as_text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def as_bool(value: Any) -> bool | None:
    """True/False, 1/0 and their spellings as text; absent or unreadable is None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
    return None


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 (with `Z` or an offset; naive = UTC) or epoch seconds/milliseconds, in UTC;
    None when unreadable or outside the sane range (see `instantly.timestamps`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 10**11 else value
        try:
            return sane_timestamp(datetime.fromtimestamp(seconds, tz=UTC))
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return sane_timestamp(parsed)


def normalise_email(value: Any) -> str:
    """Addresses compare case-insensitively; Salesbrain stores them lower-cased."""
    text = as_text(value).lower()
    return text if "@" in text else ""


def _first(variables: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        text = as_text(variables.get(key))
        if text:
            return text
    return ""


def _unibox_thread(url: str) -> str:
    match = _UNIBOX_THREAD.search(url)
    return match.group(1) if match else ""


def _error_message(payload: dict[str, Any]) -> str:
    for key in ERROR_KEYS:
        value = payload.get(key)
        if isinstance(value, dict):
            value = value.get("message") or value.get("e_message")
        text = as_text(value)
        if text:
            return text
    status_message = payload.get("status_message")
    if isinstance(status_message, dict):
        return as_text(status_message.get("e_message") or status_message.get("response"))
    return as_text(status_message)
