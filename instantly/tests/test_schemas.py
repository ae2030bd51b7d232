"""Payload schemas: lenient typing, unknown fields and the raw JSON kept."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from instantly.schemas import (
    AccountDailyAnalytics,
    BulkAddLeadsResult,
    Campaign,
    CampaignAnalytics,
    CampaignDailyAnalytics,
    CampaignStepAnalytics,
    EmailAccount,
    Lead,
    UniboxEmail,
    Webhook,
    Workspace,
)

CAMPAIGN = {
    "id": "8ad64aaf-8294-4538-8400-4a99dcf016e8",
    "name": "Marketing agencies",
    "status": 1,
    "timestamp_created": "2025-09-12T10:02:21.146Z",
    "timestamp_updated": "2025-10-30T01:09:44.198Z",
    "pl_value": "100",
    "daily_limit": "900",
    "email_list": ["a@agency.com", "b@agency.com"],
    "email_tag_list": ["5bf588e3"],
    "stop_on_reply": True,
    "open_tracking": False,
    "link_tracking": False,
    "text_only": True,
    "is_evergreen": False,
    "campaign_schedule": {
        "start_date": "",
        "end_date": None,
        "schedules": [
            {
                "name": "New schedule",
                "timing": {"from": "07:00", "to": "19:00"},
                "days": {"1": True, "2": True},
                "timezone": "America/Detroit",
            }
        ],
    },
    "sequences": [
        {
            "steps": [
                {
                    "type": "email",
                    "delay": 2,
                    "delay_unit": "days",
                    "variants": [
                        {"subject": "{{firstName}}, quick one", "body": "<div>Hi</div>"},
                        {"subject": "B", "body": "x", "v_disabled": True},
                    ],
                }
            ]
        }
    ],
    "provider_routing_rules": [{"action": "send"}],
}


def test_campaign_maps_nested_schedule_and_sequences():
    campaign = Campaign.model_validate(CAMPAIGN)

    assert campaign.name == "Marketing agencies"
    assert campaign.status == 1
    assert campaign.timestamp_created == dt.datetime(2025, 9, 12, 10, 2, 21, 146000, tzinfo=dt.UTC)
    assert campaign.email_list == ["a@agency.com", "b@agency.com"]
    schedule = campaign.campaign_schedule.schedules[0]
    assert (schedule.timing.from_, schedule.timing.to) == ("07:00", "19:00")
    assert schedule.timezone == "America/Detroit"
    step = campaign.sequences[0].steps[0]
    assert (step.type, step.delay, step.delay_unit) == ("email", 2, "days")
    assert [v.subject for v in step.variants] == ["{{firstName}}, quick one", "B"]
    assert step.variants[1].v_disabled is True


def test_numbers_sent_as_strings_are_accepted():
    campaign = Campaign.model_validate(CAMPAIGN)

    assert campaign.daily_limit == 900
    assert campaign.pl_value == 100.0


def test_unknown_fields_are_kept_and_raw_is_the_exact_payload():
    campaign = Campaign.model_validate(CAMPAIGN)

    assert campaign.model_extra == {"provider_routing_rules": [{"action": "send"}]}
    assert campaign.raw is CAMPAIGN
    assert campaign.raw["daily_limit"] == "900"  # as sent, not as coerced
    assert campaign.sequences[0].steps[0].raw == CAMPAIGN["sequences"][0]["steps"][0]
    dumped = campaign.model_dump(by_alias=True)
    assert dumped["provider_routing_rules"] == [{"action": "send"}]
    assert dumped["campaign_schedule"]["schedules"][0]["timing"]["from"] == "07:00"


def test_a_value_of_the_wrong_shape_becomes_none_but_stays_in_raw():
    payload = {"id": "c1", "daily_limit": "lots", "sequences": "none", "stop_on_reply": "maybe"}

    campaign = Campaign.model_validate(payload)

    assert campaign.daily_limit is None
    assert campaign.sequences is None
    assert campaign.stop_on_reply is None
    assert campaign.raw["daily_limit"] == "lots"


def test_fields_are_optional_but_the_id_is_required():
    assert Campaign.model_validate({"id": "c1"}).name is None
    with pytest.raises(ValidationError):
        Campaign.model_validate({"name": "no id"})
    with pytest.raises(ValidationError):
        Lead.model_validate({"email": "p@co.com"})
    with pytest.raises(ValidationError):
        EmailAccount.model_validate({"status": 1})


def test_numeric_id_is_read_as_text():
    assert Workspace.model_validate({"id": 42}).id == "42"


def test_workspace():
    workspace = Workspace.model_validate(
        {
            "id": "ws-1",
            "name": "Agency",
            "owner": "u-1",
            "plan_id": "pid_hg_v1",
            "org_client_domain": "app.agency.com",
            "timestamp_created": "2024-01-01T00:00:00Z",
        }
    )

    assert workspace.owner == "u-1"
    assert workspace.org_client_domain == "app.agency.com"
    assert workspace.timestamp_created.year == 2024


def test_email_account_with_error_status_message():
    account = EmailAccount.model_validate(
        {
            "email": "a@agency.com",
            "status": -1,
            "status_message": {"code": "EAUTH", "e_message": "Invalid login", "responseCode": 535},
            "provider_code": "2",
            "daily_limit": 30,
            "warmup_status": 1,
            "stat_warmup_score": "98.5",
            "warmup": {"limit": 20, "increment": 1, "reply_rate": 30},
            "timestamp_last_used": "2025-01-01T08:00:00.000Z",
        }
    )

    assert account.status == -1
    assert account.status_message["e_message"] == "Invalid login"
    assert account.provider_code == 2
    assert account.stat_warmup_score == 98.5
    assert account.warmup["limit"] == 20
    assert account.timestamp_last_used.tzinfo is not None


@pytest.mark.parametrize("status_message", [None, "Connection lost"])
def test_email_account_status_message_may_be_null_or_text(status_message):
    account = EmailAccount.model_validate({"email": "a@x.com", "status_message": status_message})

    assert account.status_message == status_message


def test_campaign_analytics_row():
    row = CampaignAnalytics.model_validate(
        {
            "campaign_id": "c1",
            "campaign_name": "Q3",
            "campaign_status": 1,
            "leads_count": 100,
            "emails_sent_count": "250",
            "reply_count_unique": 7,
            "total_opportunity_value": 1500.5,
        }
    )

    assert row.emails_sent_count == 250
    assert row.total_opportunity_value == 1500.5
    with pytest.raises(ValidationError):
        CampaignAnalytics.model_validate({"campaign_name": "no id"})


def test_daily_rows_parse_dates():
    campaign_day = CampaignDailyAnalytics.model_validate({"date": "2025-03-01", "sent": 10})
    account_day = AccountDailyAnalytics.model_validate(
        {"date": "2025-03-02", "email_account": "a@x.com", "bounced": "1"}
    )

    assert campaign_day.date == dt.date(2025, 3, 1)
    assert account_day.date == dt.date(2025, 3, 2)
    assert account_day.bounced == 1


def test_step_analytics_step_and_variant_arrive_as_strings_or_null():
    row = CampaignStepAnalytics.model_validate({"step": "2", "variant": "1", "sent": 5})
    unknown = CampaignStepAnalytics.model_validate({"step": None, "variant": None})

    assert (row.step, row.variant) == (2, 1)
    assert (unknown.step, unknown.variant) == (None, None)


def test_lead_keeps_custom_variables_in_payload():
    lead = Lead.model_validate(
        {
            "id": "l1",
            "email": "p@co.com",
            "status": 1,
            "lt_interest_status": -1,
            "payload": {"firstName": "Pat", "plan": "pro"},
            "email_reply_count": "3",
        }
    )

    assert lead.lt_interest_status == -1
    assert lead.payload == {"firstName": "Pat", "plan": "pro"}
    assert lead.email_reply_count == 3


def test_unibox_email_reads_flags_and_body():
    email = UniboxEmail.model_validate(
        {
            "id": "e1",
            "thread_id": "t1",
            "timestamp_email": "2025-01-01T09:30:00.000Z",
            "from_address_email": "p@co.com",
            "to_address_email_list": "a@agency.com,b@agency.com",
            "body": {"text": "Sounds good", "html": "<p>Sounds good</p>"},
            "ue_type": 2,
            "is_unread": 1,
            "is_auto_reply": 0,
            "step": 1,
        }
    )

    assert email.is_unread is True
    assert email.is_auto_reply is False
    assert email.body.html == "<p>Sounds good</p>"
    assert email.to_address_email_list == "a@agency.com,b@agency.com"
    assert email.step == "1"


def test_webhook_repr_hides_the_secret_header_and_url():
    webhook = Webhook.model_validate(
        {
            "id": "w1",
            "target_hook_url": "https://sb.example.com/hooks/instantly?token=url-secret",
            "event_type": "all_events",
            "headers": {"X-Salesbrain-Secret": "header-secret"},
            "status": 1,
        }
    )

    assert webhook.headers == {"X-Salesbrain-Secret": "header-secret"}
    assert "header-secret" not in repr(webhook)
    assert "url-secret" not in repr(webhook)
    assert "header-secret" not in str(webhook)


def test_bulk_add_results_combine_counts_and_shift_indexes():
    first = BulkAddLeadsResult.model_validate(
        {
            "status": "success",
            "total_sent": 2,
            "leads_uploaded": 1,
            "duplicated_leads": 1,
            "remaining_in_plan": 50,
            "created_leads": [{"id": "l1", "email": "a@co.com", "index": 1}],
        }
    )
    second = BulkAddLeadsResult.model_validate(
        {
            "status": "success",
            "total_sent": "2",
            "leads_uploaded": 2,
            "invalid_email_count": None,
            "remaining_in_plan": 48,
            "created_leads": [
                {"id": "l2", "email": "b@co.com", "index": 0},
                {"id": "l3", "email": "c@co.com", "index": 1},
            ],
        }
    )

    total = BulkAddLeadsResult.combine([(0, first), (2, second)])

    assert total.total_sent == 4
    assert total.leads_uploaded == 3
    assert total.duplicated_leads == 1
    assert total.invalid_email_count == 0
    assert total.remaining_in_plan == 48
    assert [(c.id, c.index) for c in total.created_leads] == [("l1", 1), ("l2", 2), ("l3", 3)]
