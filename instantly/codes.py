"""Instantly's numeric codes and what they mean in Salesbrain: the one translation table.

Domain apps speak text statuses (`campaigns.models`); Instantly speaks numbers, sometimes sent
as strings ("1", "-2"). Every translation is a dictionary lookup here, never a chain of ifs
elsewhere, so a new code is one line. An unknown code becomes UNKNOWN (blank for the interest
status, which has no UNKNOWN) instead of failing a sync: the raw payload still has the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaigns.models import (
    CampaignStatus,
    InterestStatus,
    LabelMeaning,
    LeadStatus,
    MailboxStatus,
    MailProvider,
    NotSendingStatus,
    WarmupStatus,
)
from salesbrain.parsing import as_int

CAMPAIGN_STATUS: dict[int, CampaignStatus] = {
    0: CampaignStatus.DRAFT,
    1: CampaignStatus.ACTIVE,
    2: CampaignStatus.PAUSED,
    3: CampaignStatus.COMPLETED,
    4: CampaignStatus.RUNNING_SUBSEQUENCES,
    -1: CampaignStatus.ACCOUNTS_UNHEALTHY,
    -2: CampaignStatus.BOUNCE_PROTECT,
    -99: CampaignStatus.ACCOUNT_SUSPENDED,
}

MAILBOX_STATUS: dict[int, MailboxStatus] = {
    1: MailboxStatus.ACTIVE,
    2: MailboxStatus.PAUSED,
    3: MailboxStatus.MAINTENANCE,
    -1: MailboxStatus.CONNECTION_ERROR,
    -2: MailboxStatus.SOFT_BOUNCE_ERROR,
    -3: MailboxStatus.SENDING_ERROR,
}

WARMUP_STATUS: dict[int, WarmupStatus] = {
    0: WarmupStatus.PAUSED,
    1: WarmupStatus.ACTIVE,
    -1: WarmupStatus.BANNED,
    -2: WarmupStatus.SPAM_FOLDER_UNKNOWN,
    -3: WarmupStatus.PERMANENT_SUSPENSION,
}

MAIL_PROVIDER: dict[int, MailProvider] = {
    1: MailProvider.IMAP,
    2: MailProvider.GOOGLE,
    3: MailProvider.MICROSOFT,
    4: MailProvider.AWS,
    8: MailProvider.AIRMAIL,
    11: MailProvider.AIRMAIL_INSTANT,
}

LEAD_STATUS: dict[int, LeadStatus] = {
    1: LeadStatus.ACTIVE,
    2: LeadStatus.PAUSED,
    3: LeadStatus.COMPLETED,
    -1: LeadStatus.BOUNCED,
    -2: LeadStatus.UNSUBSCRIBED,
    -3: LeadStatus.SKIPPED,
}

INTEREST_STATUS: dict[int, InterestStatus] = {
    0: InterestStatus.OUT_OF_OFFICE,
    1: InterestStatus.INTERESTED,
    2: InterestStatus.MEETING_BOOKED,
    3: InterestStatus.MEETING_COMPLETED,
    4: InterestStatus.CLOSED,
    -1: InterestStatus.NOT_INTERESTED,
    -2: InterestStatus.WRONG_PERSON,
    -3: InterestStatus.LOST,
    # In the spec's enum; its name is unconfirmed ("no show" by the lead_no_show event).
    -4: InterestStatus.NO_SHOW,
}


# Campaign `not_sending_status` (a number or null in Instantly's OpenAPI spec).
NOT_SENDING_STATUS: dict[int, NotSendingStatus] = {
    1: NotSendingStatus.OUTSIDE_SCHEDULE,
    2: NotSendingStatus.WAITING_FOR_LEAD,
    3: NotSendingStatus.DAILY_LIMIT,
    4: NotSendingStatus.ACCOUNTS_AT_LIMIT,
    99: NotSendingStatus.ERROR,
}

# A custom lead label's `interest_status_label` (GET /lead-labels).
LABEL_MEANING: dict[str, LabelMeaning] = {
    "positive": LabelMeaning.POSITIVE,
    "negative": LabelMeaning.NEGATIVE,
    "neutral": LabelMeaning.NEUTRAL,
}

# Codes Instantly documents that Salesbrain does not turn into columns yet, in its words, so
# whoever shows them (admin, raw payloads) says what they mean instead of a bare number.
# Unibox email `ue_type`.
EMAIL_TYPE: dict[int, str] = {1: "sent from campaign", 2: "received", 3: "sent", 4: "scheduled"}
# Lead `verification_status`.
LEAD_VERIFICATION_STATUS: dict[int, str] = {
    1: "verified",
    11: "pending",
    12: "pending verification job",
    -1: "invalid",
    -2: "risky",
    -3: "catch all",
    -4: "job change",
}
# Lead `esp_code` (the lead's own mail provider).
LEAD_ESP_CODE: dict[int, str] = {
    0: "in queue",
    1: "Google",
    2: "Microsoft",
    3: "Zoho",
    8: "AirMail",
    9: "Yahoo",
    10: "Yandex",
    12: "Web.de",
    13: "Libero.it",
    999: "other",
    1000: "not found",
}
# Webhook subscription `status`: the spec says -1 is "error (disabled due to delivery
# failures)"; anything but 1 is treated as not delivering (`instantly.subscriptions`).
WEBHOOK_ACTIVE = 1


def campaign_status(code: Any) -> CampaignStatus:
    return CAMPAIGN_STATUS.get(as_int(code), CampaignStatus.UNKNOWN)


def mailbox_status(code: Any) -> MailboxStatus:
    return MAILBOX_STATUS.get(as_int(code), MailboxStatus.UNKNOWN)


def warmup_status(code: Any) -> WarmupStatus:
    return WARMUP_STATUS.get(as_int(code), WarmupStatus.UNKNOWN)


def mail_provider(code: Any) -> MailProvider:
    return MAIL_PROVIDER.get(as_int(code), MailProvider.UNKNOWN)


def lead_status(code: Any) -> LeadStatus | None:
    """The lead's status, or None for an unknown code (LeadStatus has no UNKNOWN member):
    callers keep the status they have rather than invent one."""
    return LEAD_STATUS.get(as_int(code))


def interest_status(code: Any) -> str:
    """The lead's interest status, or "" (blank, the model's "no interest status") if unknown."""
    return INTEREST_STATUS.get(as_int(code), "")


def lead_interest(code: Any, custom_labels: Mapping[int, str]) -> tuple[str, str]:
    """(interest status, custom label) of a lead's `lt_interest_status`.

    A built-in code is its status; a value that is one of the workspace's custom labels'
    (`custom_labels`: interest value -> label, from GET /lead-labels) is CUSTOM with that label,
    instead of becoming blank; anything else is blank."""
    value = as_int(code)
    if value in INTEREST_STATUS:
        return INTEREST_STATUS[value], ""
    if value is not None and value in custom_labels:
        return InterestStatus.CUSTOM, custom_labels[value]
    return "", ""


def not_sending_status(code: Any) -> str:
    """Why a campaign is not sending; "" when Instantly says nothing (null or absent)."""
    if code is None or code == "":
        return ""
    return NOT_SENDING_STATUS.get(as_int(code), NotSendingStatus.UNKNOWN)


def label_meaning(value: Any) -> LabelMeaning:
    """A custom label's meaning; an unknown or missing one is neutral (counts as nothing)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    return LABEL_MEANING.get(text, LabelMeaning.NEUTRAL)
