"""instantly.codes: every documented Instantly code maps to one domain value, whatever its type."""

from __future__ import annotations

import pytest

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
from instantly import codes

DOCUMENTED = [
    (codes.campaign_status, 0, CampaignStatus.DRAFT),
    (codes.campaign_status, 1, CampaignStatus.ACTIVE),
    (codes.campaign_status, 2, CampaignStatus.PAUSED),
    (codes.campaign_status, 3, CampaignStatus.COMPLETED),
    (codes.campaign_status, 4, CampaignStatus.RUNNING_SUBSEQUENCES),
    (codes.campaign_status, -1, CampaignStatus.ACCOUNTS_UNHEALTHY),
    (codes.campaign_status, -2, CampaignStatus.BOUNCE_PROTECT),
    (codes.campaign_status, -99, CampaignStatus.ACCOUNT_SUSPENDED),
    (codes.mailbox_status, 1, MailboxStatus.ACTIVE),
    (codes.mailbox_status, 2, MailboxStatus.PAUSED),
    (codes.mailbox_status, 3, MailboxStatus.MAINTENANCE),
    (codes.mailbox_status, -1, MailboxStatus.CONNECTION_ERROR),
    (codes.mailbox_status, -2, MailboxStatus.SOFT_BOUNCE_ERROR),
    (codes.mailbox_status, -3, MailboxStatus.SENDING_ERROR),
    (codes.warmup_status, 0, WarmupStatus.PAUSED),
    (codes.warmup_status, 1, WarmupStatus.ACTIVE),
    (codes.warmup_status, -1, WarmupStatus.BANNED),
    (codes.warmup_status, -2, WarmupStatus.SPAM_FOLDER_UNKNOWN),
    (codes.warmup_status, -3, WarmupStatus.PERMANENT_SUSPENSION),
    (codes.mail_provider, 1, MailProvider.IMAP),
    (codes.mail_provider, 2, MailProvider.GOOGLE),
    (codes.mail_provider, 3, MailProvider.MICROSOFT),
    (codes.mail_provider, 4, MailProvider.AWS),
    (codes.mail_provider, 8, MailProvider.AIRMAIL),
    (codes.mail_provider, 11, MailProvider.AIRMAIL_INSTANT),
    (codes.not_sending_status, 1, NotSendingStatus.OUTSIDE_SCHEDULE),
    (codes.not_sending_status, 2, NotSendingStatus.WAITING_FOR_LEAD),
    (codes.not_sending_status, 3, NotSendingStatus.DAILY_LIMIT),
    (codes.not_sending_status, 4, NotSendingStatus.ACCOUNTS_AT_LIMIT),
    (codes.not_sending_status, 99, NotSendingStatus.ERROR),
    (codes.lead_status, 1, LeadStatus.ACTIVE),
    (codes.lead_status, 2, LeadStatus.PAUSED),
    (codes.lead_status, 3, LeadStatus.COMPLETED),
    (codes.lead_status, -1, LeadStatus.BOUNCED),
    (codes.lead_status, -2, LeadStatus.UNSUBSCRIBED),
    (codes.lead_status, -3, LeadStatus.SKIPPED),
    (codes.interest_status, 0, InterestStatus.OUT_OF_OFFICE),
    (codes.interest_status, 1, InterestStatus.INTERESTED),
    (codes.interest_status, 2, InterestStatus.MEETING_BOOKED),
    (codes.interest_status, 3, InterestStatus.MEETING_COMPLETED),
    (codes.interest_status, 4, InterestStatus.CLOSED),
    (codes.interest_status, -1, InterestStatus.NOT_INTERESTED),
    (codes.interest_status, -2, InterestStatus.WRONG_PERSON),
    (codes.interest_status, -3, InterestStatus.LOST),
    (codes.interest_status, -4, InterestStatus.NO_SHOW),
]


@pytest.mark.parametrize(("lookup", "code", "expected"), DOCUMENTED)
def test_documented_code_maps_to_its_domain_value(lookup, code, expected):
    assert lookup(code) == expected


@pytest.mark.parametrize(("lookup", "code", "expected"), DOCUMENTED)
def test_code_sent_as_a_string_maps_the_same(lookup, code, expected):
    assert lookup(str(code)) == expected
    assert lookup(f" {code} ") == expected
    assert lookup(f"{code}.0") == expected


@pytest.mark.parametrize(
    ("lookup", "fallback"),
    [
        (codes.campaign_status, CampaignStatus.UNKNOWN),
        (codes.mailbox_status, MailboxStatus.UNKNOWN),
        (codes.warmup_status, WarmupStatus.UNKNOWN),
        (codes.mail_provider, MailProvider.UNKNOWN),
        (codes.interest_status, ""),
        (codes.lead_status, None),
    ],
)
@pytest.mark.parametrize("unknown", [99, "7", None, "", "active", 1.5, True, [1], {"a": 1}])
def test_unknown_or_malformed_code_falls_back_instead_of_failing(lookup, fallback, unknown):
    assert lookup(unknown) == fallback


def test_every_table_value_is_a_valid_choice_of_its_model_field():
    tables = [
        (codes.CAMPAIGN_STATUS, CampaignStatus),
        (codes.MAILBOX_STATUS, MailboxStatus),
        (codes.WARMUP_STATUS, WarmupStatus),
        (codes.MAIL_PROVIDER, MailProvider),
        (codes.LEAD_STATUS, LeadStatus),
        (codes.INTEREST_STATUS, InterestStatus),
    ]
    for table, choices in tables:
        assert set(table.values()) <= set(choices.values)
        assert len(set(table.values())) == len(table)  # one code per domain value


def test_interest_minus_four_is_no_show():
    """-4 is in the spec's lt_interest_status enum ("No Show")."""
    assert codes.interest_status(-4) == InterestStatus.NO_SHOW
    assert codes.interest_status("-4") == InterestStatus.NO_SHOW


def test_a_custom_interest_value_keeps_its_label_instead_of_becoming_blank():
    """lt_interest_status "can be either a static value, or a custom status interest value"
    (the spec): a custom label's `interest_status` (GET /lead-labels) names the label."""
    labels = {17: "Hot Lead", 18: "follow_up"}
    assert codes.lead_interest(17, labels) == (InterestStatus.CUSTOM, "Hot Lead")
    assert codes.lead_interest("18", labels) == (InterestStatus.CUSTOM, "follow_up")
    assert codes.lead_interest(1, labels) == (InterestStatus.INTERESTED, "")
    assert codes.lead_interest(99, labels) == ("", "")
    assert codes.lead_interest(None, labels) == ("", "")
    assert codes.interest_status(17) == ""  # without the labels it cannot be told


def test_not_sending_status_null_is_blank_and_an_unknown_code_says_so():
    assert codes.not_sending_status(None) == ""
    assert codes.not_sending_status(5) == NotSendingStatus.UNKNOWN


@pytest.mark.parametrize(
    ("text", "expected"),
    [("positive", LabelMeaning.POSITIVE), ("negative", LabelMeaning.NEGATIVE),
     ("neutral", LabelMeaning.NEUTRAL)],
)  # fmt: skip
def test_documented_label_meanings(text, expected):
    """GET /lead-labels `interest_status_label`: positive, negative or neutral."""
    assert codes.label_meaning(text) == expected


def test_an_unknown_label_meaning_counts_as_neutral():
    assert codes.label_meaning("Positive ") == LabelMeaning.POSITIVE
    assert codes.label_meaning("excited") == LabelMeaning.NEUTRAL
    assert codes.label_meaning(None) == LabelMeaning.NEUTRAL
