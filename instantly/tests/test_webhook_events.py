"""The normalisation table and payload field extraction (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from instantly.sandbox import webhooks as sandbox_webhooks
from instantly.webhooks import effects
from instantly.webhooks.events import (
    EVENT_TYPES,
    EventType,
    as_bool,
    as_int,
    extract_fields,
    normalise_event_type,
    parse_timestamp,
)

EXPECTED = {
    # subscription values
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
    # alternates seen in deliveries
    "link_clicked": EventType.CLICKED,
    "auto_reply_received": EventType.AUTO_REPLIED,
    # older names
    "email_clicked": EventType.CLICKED,
    "email_unsubscribed": EventType.UNSUBSCRIBED,
    "email_spam_report": EventType.SPAM_REPORTED,
    "lead_completed": EventType.LEAD_COMPLETED,
    "lead_error": EventType.LEAD_ERROR,
    "campaign_started": EventType.CAMPAIGN_STARTED,
    "campaign_paused": EventType.CAMPAIGN_PAUSED,
    "account_suspended": EventType.ACCOUNT_SUSPENDED,
}


@pytest.mark.parametrize(("spelling", "expected"), sorted(EXPECTED.items()))
def test_every_known_spelling_has_one_normalised_type(spelling, expected):
    assert normalise_event_type(spelling) == expected


def test_the_table_holds_exactly_the_known_spellings():
    assert EVENT_TYPES == EXPECTED


def test_every_spelling_the_sandbox_delivers_is_understood():
    for spelling in sandbox_webhooks.ALL_EVENT_TYPES:
        assert normalise_event_type(spelling) != EventType.UNKNOWN, spelling
    for label in sandbox_webhooks.CUSTOM_LABEL_NAMES:
        assert normalise_event_type(label) == EventType.LEAD_CUSTOM_LABEL


def test_every_normalised_type_is_processed_except_those_no_instantly_event_means():
    """The seed's campaign_started/campaign_paused/lead_completed/lead_error are no Instantly
    event: stored and ignored (campaign state comes from the sync), never taken for labels."""
    unhandled = {t for t in EventType if not effects.is_handled(t)}
    assert unhandled == {
        EventType.ENRICHMENT_COMPLETED,
        EventType.UNKNOWN,
        EventType.CAMPAIGN_STARTED,
        EventType.CAMPAIGN_PAUSED,
        EventType.LEAD_COMPLETED,
        EventType.LEAD_ERROR,
    }


@pytest.mark.parametrize("spelling", ["EMAIL_SENT", " email_sent ", "Email_Sent"])
def test_spellings_are_matched_without_case_or_surrounding_space(spelling):
    assert normalise_event_type(spelling) == EventType.SENT


@pytest.mark.parametrize(
    "label",
    [
        "Hot Prospect",
        "Follow up in Q3",
        "VIP",
        "hot",
        "call-back",
        "Interessiert ✓",
        # Instantly sends a label's name as-is, so machine-looking names are labels too.
        "follow_up",
        "hot_lead",
        "Hot_Lead",
    ],
)
def test_a_custom_lead_label_is_recognised(label):
    assert normalise_event_type(label) == EventType.LEAD_CUSTOM_LABEL


@pytest.mark.parametrize("value", ["", "   ", None, 3, ["email_sent"], "x" * 121, "a\x00b"])
def test_non_text_and_unprintable_event_types_are_unknown(value):
    assert normalise_event_type(value) == EventType.UNKNOWN


def test_a_documented_type_is_never_a_label():
    assert normalise_event_type("lead_interested") == EventType.LEAD_INTERESTED
    assert normalise_event_type("Lead_Interested") == EventType.LEAD_INTERESTED


def test_custom_label_fields_carry_the_label_text():
    fields = extract_fields({"event_type": " Hot Prospect ", "lead_email": "a@b.example"})
    assert fields.label == "Hot Prospect"
    assert extract_fields({"event_type": "follow_up"}).label == "follow_up"
    assert extract_fields({"event_type": "lead_interested"}).label == ""


# --- fields --------------------------------------------------------------------------------------

SENT = {
    "timestamp": "2026-03-02T09:15:00.000Z",
    "event_type": "email_sent",
    "workspace": "ws-1",
    "campaign_id": "cmp-1",
    "campaign_name": "SaaS founders EU",
    "lead_email": "Maya.Patel@Bluepeak.example",
    "email": "Maya.Patel@Bluepeak.example",
    "email_account": "Sam@Mail.example",
    "step": "2",
    "variant": 1,
    "email_id": "em-1",
    "unibox_url": "https://app.instantly.ai/app/unibox?thread_search=thread:th-123",
    "email_subject": "Hello",
    "email_text": "Hi Maya",
    "email_html": "<p>Hi Maya</p>",
    "firstName": "Maya",
    "lastName": "Patel",
    "companyName": "Bluepeak",
    "jobTitle": "CTO",
}


def test_sent_fields_are_read_from_the_flat_payload():
    f = extract_fields(SENT)
    assert f.event_type == EventType.SENT and f.raw_event_type == "email_sent"
    assert f.occurred_at == dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    assert (f.campaign_id, f.campaign_name, f.workspace_id) == ("cmp-1", "SaaS founders EU", "ws-1")
    assert f.lead_email == "maya.patel@bluepeak.example"
    assert f.email_account == "sam@mail.example"
    assert (f.step, f.variant) == (2, 1)
    assert f.is_first is None  # absent
    assert (f.email_id, f.thread_id) == ("em-1", "th-123")
    assert (f.subject, f.text, f.html) == ("Hello", "Hi Maya", "<p>Hi Maya</p>")
    assert (f.first_name, f.last_name, f.company_name) == ("Maya", "Patel", "Bluepeak")
    assert f.custom_variables == {
        "firstName": "Maya",
        "lastName": "Patel",
        "companyName": "Bluepeak",
        "jobTitle": "CTO",
    }


@pytest.mark.parametrize(
    ("url", "thread_id"),
    [
        ("https://app.instantly.ai/app/unibox?thread_search=thread:th-123", "th-123"),
        ("https://app.instantly.ai/app/unibox?thread_search=thread%3Ath-9&x=1", "th-9"),
        # The older form names the lead, not a thread: no thread id (threads by lead instead).
        ("https://app.instantly.ai/app/unibox?thread_search=maya@bluepeak.example", ""),
        ("https://app.instantly.ai/app/unibox?thread_search=maya%40bluepeak.example", ""),
    ],
)
def test_thread_id_from_either_unibox_url_form(url, thread_id):
    assert extract_fields({**SENT, "unibox_url": url}).thread_id == thread_id


def test_reply_fields_come_from_the_reply_keys():
    f = extract_fields(
        {
            "event_type": "reply_received",
            "email": "lead@x.example",
            "email_subject": "not this one",
            "reply_subject": "Re: Hello",
            "reply_text": "Sounds good " * 30,
            "reply_html": "<p>Sounds good</p>",
            "reply_text_snippet": "Sounds good",
            "is_first": "true",
        }
    )
    assert f.lead_email == "lead@x.example"
    assert (f.subject, f.html, f.snippet) == ("Re: Hello", "<p>Sounds good</p>", "Sounds good")
    assert f.is_first is True


def test_names_may_come_in_snake_case_too():
    f = extract_fields({"event_type": "email_opened", "first_name": "Ana", "company_name": "X"})
    assert (f.first_name, f.company_name) == ("Ana", "X")


def test_account_error_message_is_found_where_it_is():
    assert extract_fields({"error_message": "boom"}).error_message == "boom"
    assert extract_fields({"error": {"message": "nested"}}).error_message == "nested"
    status = {"code": "EAUTH", "e_message": "Invalid login"}
    f = extract_fields({"status_message": status})
    assert (f.error_message, f.status_message) == ("Invalid login", status)


def test_odd_values_become_empty_never_errors():
    f = extract_fields(
        {
            "event_type": "email_opened",
            "timestamp": "yesterday",
            "lead_email": "not-an-address",
            "step": "two",
            "variant": True,
            "campaign_id": {"id": 1},
            "is_first": "maybe",
        }
    )
    assert (f.occurred_at, f.lead_email, f.step, f.variant, f.campaign_id, f.is_first) == (
        None,
        "",
        None,
        None,
        "",
        None,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, 2), ("2", 2), (" 3 ", 3), (2.0, 2), (2.5, None), ("", None), (None, None), (True, None)],
)
def test_numbers_that_arrive_as_strings_are_accepted(value, expected):
    assert as_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("0", False),
     (None, None), ("", None), (2, None)],
)  # fmt: skip
def test_is_first_may_be_a_bool_a_number_text_or_absent(value, expected):
    assert as_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-02T09:15:00.000Z", dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)),
        ("2026-03-02T10:15:00+01:00", dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)),
        ("2026-03-02T09:15:00", dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)),
        (1772442900, dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)),
        (1772442900000, dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_timestamps(value, expected):
    assert parse_timestamp(value) == expected
