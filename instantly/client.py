"""The Instantly API v2 client: the only code in Salesbrain that talks HTTP to Instantly.

One method per endpoint the product uses, grouped by resource; everything about sending a
request (auth, rate limit, retries, typed errors, pagination, parsing) is in `transport`.
Pure Python (no Django import) so it runs in scripts, Celery workers and tests alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from instantly.schemas import (
    AccountDailyAnalytics,
    BlockListEntry,
    BulkAddLeadsResult,
    Campaign,
    CampaignAnalytics,
    CampaignAnalyticsOverview,
    CampaignDailyAnalytics,
    CampaignStepAnalytics,
    EmailAccount,
    Lead,
    LeadLabel,
    UniboxEmail,
    Webhook,
    Workspace,
)
from instantly.transport import HttpCall, InstantlyTransport, parse_model

BULK_ADD_MAX_LEADS = 1000  # POST /leads/add accepts at most this many leads per call
ACCOUNT_ANALYTICS_MAX_EMAILS = 200  # GET /accounts/analytics/daily accepts at most this many

T = TypeVar("T")
DateLike = dt.date | str


class InstantlyClient(InstantlyTransport):
    """Talks to one Instantly workspace with one API key: one method per endpoint.

    Construction, limits and retries are `InstantlyTransport`'s.
    """

    # --- workspace ---------------------------------------------------------------------------

    def get_current_workspace(self) -> Workspace:
        """The workspace the API key belongs to (also a cheap key check)."""
        return self._get_one("/workspaces/current", Workspace)

    # --- campaigns ---------------------------------------------------------------------------

    def iter_campaigns(
        self, search: str | None = None, status: int | None = None
    ) -> Iterator[Campaign]:
        return self.paginate(
            "GET", "/campaigns", params=_query(search=search, status=status), item_schema=Campaign
        )

    def get_campaign(self, campaign_id: str) -> Campaign:
        return self._get_one(f"/campaigns/{_segment(campaign_id)}", Campaign)

    def get_campaign_analytics(
        self,
        ids: Iterable[str] | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[CampaignAnalytics]:
        """Totals per campaign (all campaigns when `ids` is None; an empty list asks nothing)."""
        id_list = None if ids is None else list(ids)
        if id_list is not None and not id_list:
            return []
        params = _query(ids=id_list, start_date=start_date, end_date=end_date)
        return self._get_list("/campaigns/analytics", params, CampaignAnalytics)

    def get_campaign_daily_analytics(
        self,
        campaign_id: str,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[CampaignDailyAnalytics]:
        params = _query(campaign_id=campaign_id, start_date=start_date, end_date=end_date)
        return self._get_list("/campaigns/analytics/daily", params, CampaignDailyAnalytics)

    def get_campaign_step_analytics(
        self,
        campaign_id: str,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[CampaignStepAnalytics]:
        """Per (step, variant) figures. Opportunities (and meetings booked, won) per step come
        only with `include_opportunities_count=true`, so it is always sent."""
        params = _query(
            campaign_id=campaign_id,
            start_date=start_date,
            end_date=end_date,
            include_opportunities_count=True,
        )
        return self._get_list("/campaigns/analytics/steps", params, CampaignStepAnalytics)

    def get_campaign_analytics_overview(
        self,
        campaign_id: str,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> CampaignAnalyticsOverview:
        """One campaign's overview totals, with the interest totals (interested, meetings
        booked and completed, closed) counted by Instantly from each lead's first such event."""
        params = _query(id=campaign_id, start_date=start_date, end_date=end_date)
        path = "/campaigns/analytics/overview"
        return parse_model(
            CampaignAnalyticsOverview, self.request("GET", path, params=params) or {}, "GET", path
        )

    # --- sending mailboxes -------------------------------------------------------------------

    def iter_accounts(
        self,
        search: str | None = None,
        status: int | None = None,
        provider_code: int | None = None,
    ) -> Iterator[EmailAccount]:
        params = _query(search=search, status=status, provider_code=provider_code)
        return self.paginate("GET", "/accounts", params=params, item_schema=EmailAccount)

    def get_account(self, email: str) -> EmailAccount:
        return self._get_one(f"/accounts/{_segment(email)}", EmailAccount)

    def get_account_daily_analytics(
        self,
        emails: Iterable[str] | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
    ) -> list[AccountDailyAnalytics]:
        """Daily figures per mailbox; more than 200 mailboxes are asked for in several calls."""
        dates = _query(start_date=start_date, end_date=end_date)
        if emails is None:
            return self._get_list("/accounts/analytics/daily", dates, AccountDailyAnalytics)
        email_list = list(dict.fromkeys(emails))
        rows: list[AccountDailyAnalytics] = []
        for _, chunk in _chunks(email_list, ACCOUNT_ANALYTICS_MAX_EMAILS):
            params = {**dates, "emails": list(chunk)}
            rows.extend(self._get_list("/accounts/analytics/daily", params, AccountDailyAnalytics))
        return rows

    # --- leads -------------------------------------------------------------------------------

    def create_lead(self, campaign_id: str, email: str, **fields: Any) -> Lead:
        """Add one lead; `fields` are first_name, company_name, custom_variables, ..."""
        body = {**fields, "campaign": campaign_id, "email": email}
        return parse_model(Lead, self.request("POST", "/leads", json=body), "POST", "/leads")

    def bulk_add_leads(
        self, campaign_id: str, leads: Sequence[Mapping[str, Any]], **options: Any
    ) -> BulkAddLeadsResult:
        """Add many leads, 1,000 per call; counts are summed and `created_leads[].index`
        points into `leads`. `options` (e.g. skip_if_in_campaign) go into every call."""
        results: list[tuple[int, BulkAddLeadsResult]] = []
        for offset, chunk in _chunks(leads, BULK_ADD_MAX_LEADS):
            body = {**options, "campaign_id": campaign_id, "leads": [dict(lead) for lead in chunk]}
            data = self.request("POST", "/leads/add", json=body)
            results.append(
                (offset, parse_model(BulkAddLeadsResult, data or {}, "POST", "/leads/add"))
            )
        return BulkAddLeadsResult.combine(results)

    def iter_leads(
        self, campaign_id: str | None = None, search: str | None = None, **filters: Any
    ) -> Iterator[Lead]:
        """Leads via POST /leads/list; `filters` (ids, list_id, ...) go into the body."""
        body = {**filters, "campaign": campaign_id, "search": search}
        body = {key: value for key, value in body.items() if value is not None}
        return self.paginate("POST", "/leads/list", json=body, item_schema=Lead)

    def iter_lead_labels(self) -> Iterator[LeadLabel]:
        """The workspace's custom lead labels, each with its meaning (positive, negative,
        neutral) and the interest value a lead carrying it has."""
        return self.paginate("GET", "/lead-labels", item_schema=LeadLabel)

    def delete_lead(self, lead_id: str) -> None:
        self.request("DELETE", f"/leads/{_segment(lead_id)}")

    def update_lead_interest(
        self, lead_email: str, interest_value: int | None, campaign_id: str | None = None
    ) -> None:
        """Set a lead's interest status: `POST /api/v2/leads/update-interest-status` with
        `lead_email`, `interest_value` (an `lt_interest_status` code or a custom label's value;
        None resets the lead to plain "Lead") and optionally `campaign_id`. Documented at
        https://developer.instantly.ai/api-reference/lead/update-the-interest-status-of-a-lead
        (sure); the answer is `{"message": "... background job submitted"}`, so the change
        lands in Instantly shortly after, not necessarily before this returns."""
        body: dict[str, Any] = {"lead_email": lead_email, "interest_value": interest_value}
        if campaign_id is not None:
            body["campaign_id"] = campaign_id
        self.request("POST", "/leads/update-interest-status", json=body)

    # --- unibox ------------------------------------------------------------------------------

    def iter_emails(
        self,
        campaign_id: str | None = None,
        lead: str | None = None,
        is_unread: bool | None = None,
        email_type: str | None = None,
        search: str | None = None,
        sort_order: str | None = None,
    ) -> Iterator[UniboxEmail]:
        """Unibox emails; `email_type` received/sent/manual, `search` accepts "thread:<id>"."""
        params = _query(
            campaign_id=campaign_id,
            lead=lead,
            is_unread=is_unread,
            email_type=email_type,
            search=search,
            sort_order=sort_order,
        )
        return self.paginate("GET", "/emails", params=params, item_schema=UniboxEmail)

    def reply_to_email(
        self,
        reply_to_uuid: str,
        eaccount: str,
        subject: str,
        text: str | None = None,
        html: str | None = None,
    ) -> UniboxEmail | None:
        """Send a reply in a thread. Not retried when the outcome is unknown (timeout, 502):
        a prospect must never get the same reply twice."""
        if text is None and html is None:
            raise ValueError("a reply needs a text or an html body")
        body = {
            "reply_to_uuid": reply_to_uuid,
            "eaccount": eaccount,
            "subject": subject,
            "body": {
                key: value for key, value in (("text", text), ("html", html)) if value is not None
            },
        }
        data = self.request("POST", "/emails/reply", json=body, retry_ambiguous=False)
        return None if data is None else parse_model(UniboxEmail, data, "POST", "/emails/reply")

    # --- webhooks ----------------------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        return list(self.paginate("GET", "/webhooks", item_schema=Webhook))

    def create_webhook(
        self,
        target_hook_url: str,
        event_type: str = "all_events",
        campaign: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Webhook:
        """Subscribe `target_hook_url`; `headers` are sent with every delivery (our secret)."""
        body: dict[str, Any] = {"target_hook_url": target_hook_url, "event_type": event_type}
        if campaign is not None:
            body["campaign"] = campaign
        if headers is not None:
            body["headers"] = dict(headers)
        return parse_model(
            Webhook, self.request("POST", "/webhooks", json=body), "POST", "/webhooks"
        )

    def delete_webhook(self, webhook_id: str) -> None:
        self.request("DELETE", f"/webhooks/{_segment(webhook_id)}")

    def resume_webhook(self, webhook_id: str) -> Webhook | None:
        """Re-enable a subscription Instantly disabled after failed deliveries."""
        path = f"/webhooks/{_segment(webhook_id)}/resume"
        data = self.request("POST", path)
        return None if data is None else parse_model(Webhook, data, "POST", path)

    # --- block list --------------------------------------------------------------------------

    def create_block_list_entry(self, value: str) -> BlockListEntry:
        """Block an address (or a domain) in the whole workspace. Not retried when the answer
        is ambiguous: the caller records the outcome and staff can retry."""
        path = "/block-lists-entries"
        data = self.request("POST", path, json={"bl_value": value}, retry_ambiguous=False)
        return parse_model(BlockListEntry, data, "POST", path)

    def delete_block_list_entry(self, entry_id: str) -> None:
        self.request("DELETE", f"/block-lists-entries/{_segment(entry_id)}")

    # --- v1 ----------------------------------------------------------------------------------

    def check_v1(self, api_key_v1: str) -> bool:
        """Check a legacy v1 key with the cheapest v1 call; True, or a typed error.

        v1 takes the key as a query parameter, so it is redacted from every error message.
        """
        if not api_key_v1:
            raise ValueError("a v1 API key is required")
        path = "/api/v1/campaign/list"
        call = HttpCall(
            "GET",
            self.base_url + path,
            log_path=path,
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            params={"api_key": api_key_v1, "limit": 1, "skip": 0},
            secrets=(api_key_v1, self._api_key),
        )
        self.send(call)
        return True


# --- helpers ---------------------------------------------------------------------------------


def _query(**params: Any) -> dict[str, Any]:
    """Drop unset parameters and spell values the way the API expects them in a query string."""
    query: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dt.date):  # datetime is a date too
            value = value.isoformat()
        query[name] = value
    return query


def _chunks(items: Sequence[T], size: int) -> Iterator[tuple[int, Sequence[T]]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def _segment(value: str) -> str:
    """Quote one path segment; '@' stays readable as RFC 3986 allows it in paths."""
    return quote(str(value), safe="@")
