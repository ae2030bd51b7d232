"""Typed views of Instantly API v2 payloads (pydantic v2).

One approach for the whole project: every model keeps unknown fields (`extra="allow"`) and the
exact JSON it was built from (`.raw`), so sync code can store the provider's payload beside the
mapped columns. Fields are lenient: all optional except the id, numbers sent as strings are
accepted, and a value of the wrong shape becomes None instead of failing the whole object (the
original is still in `.raw`). Only a missing id or a non-object payload is a validation error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from .timestamps import sane_timestamp

T = TypeVar("T")


def _none_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


# A field that accepts what pydantic's lax mode can coerce and degrades to None otherwise.
Lenient = Annotated[T | None, WrapValidator(_none_if_invalid)]


def _sane_or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return sane_timestamp(_none_if_invalid(value, handler))


# A moment in time: lenient, and None outside 2000..now+1 day (see `instantly.timestamps`).
Timestamp = Annotated[dt.datetime | None, WrapValidator(_sane_or_none)]


class InstantlyModel(BaseModel):
    """Base of every payload model: keeps extras and the raw JSON object."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            model._raw = data
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object exactly as Instantly sent it (do not mutate)."""
        return self._raw


# --- workspace -----------------------------------------------------------------------------


class Workspace(InstantlyModel):
    """GET /workspaces/current."""

    id: str
    name: Lenient[str] = None
    owner: Lenient[str] = None
    plan_id: Lenient[str] = None
    org_logo_url: Lenient[str] = None
    org_client_domain: Lenient[str] = None
    timestamp_created: Timestamp = None
    timestamp_updated: Timestamp = None


# --- campaigns -----------------------------------------------------------------------------


class ScheduleTiming(InstantlyModel):
    """Sending hours of one schedule, e.g. {"from": "09:00", "to": "17:00"}."""

    from_: Lenient[str] = Field(default=None, alias="from")
    to: Lenient[str] = None


class ScheduleEntry(InstantlyModel):
    name: Lenient[str] = None
    timing: Lenient[ScheduleTiming] = None
    # Keys are weekday numbers as strings ("0" = Sunday), values booleans.
    days: Lenient[dict[str, Any]] = None
    timezone: Lenient[str] = None


class CampaignSchedule(InstantlyModel):
    # Kept as text: Instantly sends "", a date or a full timestamp here.
    start_date: Lenient[str] = None
    end_date: Lenient[str] = None
    schedules: Lenient[list[ScheduleEntry]] = None


class StepVariant(InstantlyModel):
    subject: Lenient[str] = None
    body: Lenient[str] = None
    v_disabled: Lenient[bool] = None


class SequenceStep(InstantlyModel):
    type: Lenient[str] = None
    delay: Lenient[int] = None
    delay_unit: Lenient[str] = None
    variants: Lenient[list[StepVariant]] = None


class CampaignSequence(InstantlyModel):
    steps: Lenient[list[SequenceStep]] = None


class Campaign(InstantlyModel):
    """A campaign; `status` 0 draft, 1 active, 2 paused, 3 completed, 4 subsequences, <0 trouble."""

    id: str
    name: Lenient[str] = None
    status: Lenient[int] = None
    timestamp_created: Timestamp = None
    timestamp_updated: Timestamp = None
    daily_limit: Lenient[int] = None
    daily_max_leads: Lenient[int] = None
    email_gap: Lenient[int] = None
    random_wait_max: Lenient[int] = None
    email_list: Lenient[list[str]] = None
    email_tag_list: Lenient[list[str]] = None
    stop_on_reply: Lenient[bool] = None
    stop_on_auto_reply: Lenient[bool] = None
    open_tracking: Lenient[bool] = None
    link_tracking: Lenient[bool] = None
    text_only: Lenient[bool] = None
    first_email_text_only: Lenient[bool] = None
    is_evergreen: Lenient[bool] = None
    pl_value: Lenient[float] = None
    campaign_schedule: Lenient[CampaignSchedule] = None
    sequences: Lenient[list[CampaignSequence]] = None
    organization: Lenient[str] = None
    owned_by: Lenient[str] = None


class CampaignAnalytics(InstantlyModel):
    """One row of GET /campaigns/analytics (totals per campaign)."""

    campaign_id: str
    campaign_name: Lenient[str] = None
    campaign_status: Lenient[int] = None
    campaign_is_evergreen: Lenient[bool] = None
    leads_count: Lenient[int] = None
    contacted_count: Lenient[int] = None
    emails_sent_count: Lenient[int] = None
    new_leads_contacted_count: Lenient[int] = None
    open_count: Lenient[int] = None
    open_count_unique: Lenient[int] = None
    reply_count: Lenient[int] = None
    reply_count_unique: Lenient[int] = None
    reply_count_automatic: Lenient[int] = None
    link_click_count: Lenient[int] = None
    link_click_count_unique: Lenient[int] = None
    bounced_count: Lenient[int] = None
    unsubscribed_count: Lenient[int] = None
    completed_count: Lenient[int] = None
    total_opportunities: Lenient[int] = None
    total_opportunity_value: Lenient[float] = None


class CampaignAnalyticsOverview(InstantlyModel):
    """GET /campaigns/analytics/overview for one campaign: its totals, including the interest
    totals (interested, meetings booked, meetings completed, closed) Instantly counts from the
    first occurrence per lead. Every field is kept in `raw`; these are the ones shown."""

    emails_sent_count: Lenient[int] = None
    contacted_count: Lenient[int] = None
    open_count_unique: Lenient[int] = None
    reply_count_unique: Lenient[int] = None
    bounced_count: Lenient[int] = None
    unsubscribed_count: Lenient[int] = None
    total_opportunities: Lenient[int] = None
    total_opportunity_value: Lenient[float] = None
    total_interested: Lenient[int] = None
    total_meeting_booked: Lenient[int] = None
    total_meeting_completed: Lenient[int] = None
    total_closed: Lenient[int] = None


class LeadLabel(InstantlyModel):
    """A custom lead label (GET /lead-labels): `interest_status_label` positive, negative or
    neutral; `interest_status` is the number Instantly gave it, the value a lead's
    `lt_interest_status` takes when it carries the label."""

    id: str
    label: Lenient[str] = None
    interest_status_label: Lenient[str] = None
    interest_status: Lenient[int] = None
    description: Lenient[str] = None
    timestamp_created: Timestamp = None


class CampaignDailyAnalytics(InstantlyModel):
    """One day of GET /campaigns/analytics/daily."""

    date: Lenient[dt.date] = None
    sent: Lenient[int] = None
    contacted: Lenient[int] = None
    new_leads_contacted: Lenient[int] = None
    opened: Lenient[int] = None
    unique_opened: Lenient[int] = None
    replies: Lenient[int] = None
    unique_replies: Lenient[int] = None
    replies_automatic: Lenient[int] = None
    unique_replies_automatic: Lenient[int] = None
    clicks: Lenient[int] = None
    unique_clicks: Lenient[int] = None
    opportunities: Lenient[int] = None
    unique_opportunities: Lenient[int] = None


class CampaignStepAnalytics(InstantlyModel):
    """One (step, variant) row of GET /campaigns/analytics/steps; both arrive as strings or null."""

    step: Lenient[int] = None
    variant: Lenient[int] = None
    sent: Lenient[int] = None
    opened: Lenient[int] = None
    unique_opened: Lenient[int] = None
    replies: Lenient[int] = None
    unique_replies: Lenient[int] = None
    replies_automatic: Lenient[int] = None
    unique_replies_automatic: Lenient[int] = None
    clicks: Lenient[int] = None
    unique_clicks: Lenient[int] = None
    opportunities: Lenient[int] = None
    unique_opportunities: Lenient[int] = None


# --- sending mailboxes ---------------------------------------------------------------------


class EmailAccount(InstantlyModel):
    """A sending mailbox, addressed by its email.

    `status` 1 active, 2 paused, -1/-2/-3 errors; `warmup_status` 0 paused, 1 active, <0 trouble;
    `provider_code` 1 IMAP/SMTP, 2 Google, 3 Microsoft, 4 AWS.
    """

    email: str
    first_name: Lenient[str] = None
    last_name: Lenient[str] = None
    organization: Lenient[str] = None
    status: Lenient[int] = None
    # An object ({"code", "e_message", "responseCode", ...}) when in error; text kept as is.
    status_message: Lenient[dict[str, Any] | str] = None
    provider_code: Lenient[int] = None
    daily_limit: Lenient[int] = None
    sending_gap: Lenient[int] = None
    warmup_status: Lenient[int] = None
    stat_warmup_score: Lenient[float] = None
    warmup: Lenient[dict[str, Any]] = None
    setup_pending: Lenient[bool] = None
    is_managed_account: Lenient[bool] = None
    tracking_domain_name: Lenient[str] = None
    tracking_domain_status: Lenient[str] = None
    timestamp_last_used: Timestamp = None
    timestamp_warmup_start: Timestamp = None
    timestamp_created: Timestamp = None
    timestamp_updated: Timestamp = None


class AccountDailyAnalytics(InstantlyModel):
    """One (day, mailbox) row of GET /accounts/analytics/daily."""

    date: Lenient[dt.date] = None
    email_account: Lenient[str] = None
    sent: Lenient[int] = None
    bounced: Lenient[int] = None
    contacted: Lenient[int] = None
    new_leads_contacted: Lenient[int] = None
    opened: Lenient[int] = None
    unique_opened: Lenient[int] = None
    replies: Lenient[int] = None
    unique_replies: Lenient[int] = None
    replies_automatic: Lenient[int] = None
    unique_replies_automatic: Lenient[int] = None
    clicks: Lenient[int] = None
    unique_clicks: Lenient[int] = None


# --- leads ---------------------------------------------------------------------------------


class Lead(InstantlyModel):
    """A lead; `status` 1 active, 2 paused, 3 completed, -1 bounced, -2 unsubscribed, -3 skipped."""

    id: str
    email: Lenient[str] = None
    first_name: Lenient[str] = None
    last_name: Lenient[str] = None
    company_name: Lenient[str] = None
    company_domain: Lenient[str] = None
    website: Lenient[str] = None
    phone: Lenient[str] = None
    personalization: Lenient[str] = None
    campaign: Lenient[str] = None
    list_id: Lenient[str] = None
    organization: Lenient[str] = None
    status: Lenient[int] = None
    lt_interest_status: Lenient[int] = None
    verification_status: Lenient[int] = None
    email_open_count: Lenient[int] = None
    email_reply_count: Lenient[int] = None
    email_click_count: Lenient[int] = None
    # Custom variables live here on read (flat string/number values).
    payload: Lenient[dict[str, Any]] = None
    timestamp_created: Timestamp = None
    timestamp_updated: Timestamp = None
    timestamp_last_contact: Timestamp = None
    timestamp_last_open: Timestamp = None
    timestamp_last_reply: Timestamp = None
    timestamp_last_click: Timestamp = None


class CreatedLead(InstantlyModel):
    """One entry of `created_leads`; `index` points into the leads list that was sent."""

    id: Lenient[str] = None
    email: Lenient[str] = None
    index: Lenient[int] = None


BULK_ADD_COUNTERS = (
    "total_sent",
    "leads_uploaded",
    "in_blocklist",
    "duplicated_leads",
    "duplicate_email_count",
    "invalid_email_count",
    "incomplete_count",
    "skipped_count",
)


class BulkAddLeadsResult(InstantlyModel):
    """Answer of POST /leads/add (or the sum over several chunks of it)."""

    status: Lenient[str] = None
    total_sent: Lenient[int] = None
    leads_uploaded: Lenient[int] = None
    in_blocklist: Lenient[int] = None
    # The id (a UUID) of the block list Instantly applied, not a count: never summed.
    blocklist_used: Lenient[str] = None
    duplicated_leads: Lenient[int] = None
    duplicate_email_count: Lenient[int] = None
    invalid_email_count: Lenient[int] = None
    incomplete_count: Lenient[int] = None
    skipped_count: Lenient[int] = None
    remaining_in_plan: Lenient[int] = None
    created_leads: Lenient[list[CreatedLead]] = None

    @classmethod
    def combine(cls, chunks: Iterable[tuple[int, BulkAddLeadsResult]]) -> BulkAddLeadsResult:
        """Sum chunk answers; `chunks` yields (offset of the chunk in the full list, result).

        `created_leads[].index` is shifted by the offset so it points into the caller's list.
        """
        total: dict[str, Any] = {name: 0 for name in BULK_ADD_COUNTERS}
        created: list[dict[str, Any]] = []
        for offset, result in chunks:
            for name in BULK_ADD_COUNTERS:
                total[name] += getattr(result, name) or 0
            for lead in result.created_leads or []:
                entry = dict(lead.raw)
                if lead.index is not None:
                    entry["index"] = lead.index + offset
                created.append(entry)
            # The latest chunk knows best how much room is left in the plan (and which
            # block list applied).
            for name in ("status", "remaining_in_plan", "blocklist_used"):
                if getattr(result, name) is not None:
                    total[name] = getattr(result, name)
        total["created_leads"] = created
        return cls.model_validate(total)


# --- unibox --------------------------------------------------------------------------------


class EmailBody(InstantlyModel):
    text: Lenient[str] = None
    html: Lenient[str] = None


class UniboxEmail(InstantlyModel):
    """One email of the Unibox; `ue_type` 1 campaign send, 2 received, 3 manual, 4 scheduled."""

    id: str
    thread_id: Lenient[str] = None
    message_id: Lenient[str] = None
    timestamp_email: Timestamp = None
    timestamp_created: Timestamp = None
    subject: Lenient[str] = None
    from_address_email: Lenient[str] = None
    # Comma-separated addresses, as Instantly sends them.
    to_address_email_list: Lenient[str] = None
    cc_address_email_list: Lenient[str] = None
    body: Lenient[EmailBody] = None
    content_preview: Lenient[str] = None
    eaccount: Lenient[str] = None
    campaign_id: Lenient[str] = None
    subsequence_id: Lenient[str] = None
    lead: Lenient[str] = None
    lead_id: Lenient[str] = None
    step: Lenient[str] = None
    ue_type: Lenient[int] = None
    is_unread: Lenient[bool] = None
    is_auto_reply: Lenient[bool] = None
    i_status: Lenient[int] = None
    organization_id: Lenient[str] = None


# --- webhooks ------------------------------------------------------------------------------


class BlockListEntry(InstantlyModel):
    """One address or domain on the workspace's block list: no campaign emails it."""

    id: str
    bl_value: Lenient[str] = None
    is_domain: Lenient[bool] = None
    organization_id: Lenient[str] = None
    timestamp_created: Lenient[str] = None


class Webhook(InstantlyModel):
    """A webhook subscription. `status` 1 is active; the value of a subscription Instantly
    disabled after failed deliveries is undocumented (-1 has been assumed, unconfirmed).
    `event_type` null means custom-label events only (not all events)."""

    id: str
    organization: Lenient[str] = None
    name: Lenient[str] = None
    campaign: Lenient[str] = None
    # The URL may embed a secret too.
    target_hook_url: Lenient[str] = Field(default=None, repr=False)
    event_type: Lenient[str] = None
    custom_interest_value: Lenient[int] = None
    # Carries the shared secret our receiver checks: keep it out of reprs.
    headers: Lenient[dict[str, str]] = Field(default=None, repr=False)
    status: Lenient[int] = None
    timestamp_created: Timestamp = None
    timestamp_error: Timestamp = None
