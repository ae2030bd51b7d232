"""Instantly's numeric codes and what they mean in Salesbrain: the one translation table.

Domain apps speak text statuses (`campaigns.models`); Instantly speaks numbers, sometimes sent
as strings ("1", "-2"). Every translation is a dictionary lookup here, never a chain of ifs
elsewhere, so a new code is one line. An unknown code becomes UNKNOWN (blank for the interest
status, which has no UNKNOWN) instead of failing a sync: the raw payload still has the number.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import (
    CampaignStatus,
    InterestStatus,
    LeadStatus,
    MailboxStatus,
    MailProvider,
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
