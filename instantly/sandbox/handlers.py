"""The sandbox's answers to Instantly's API, one function per route, grouped by resource.

Each handler takes the workspace and the request (plus the route's path parameters), checks
the input as Instantly does (ValueError = 400 with its validation wording, NotFound = 404) and
returns plain data. `ROUTES` at the end says which path each one answers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from instantly.sandbox.data import NotFound, SandboxWorkspace
from instantly.sandbox.protocol import (
    Request,
    date_range,
    int_param,
    list_of_strings,
    page,
    uuid_param,
)
from instantly.sandbox.webhooks import SUBSCRIPTION_EVENT_TYPES

MAX_BULK_LEADS = 1000

# --- workspace and campaigns ------------------------------------------------------------------


def get_workspace(workspace: SandboxWorkspace, request: Request) -> Any:
    return workspace.workspace


def list_campaigns(workspace: SandboxWorkspace, request: Request) -> Any:
    campaigns = workspace.campaigns
    search = (request.one("search") or "").lower()
    if search:
        campaigns = [c for c in campaigns if search in c["name"].lower()]
    status = int_param(request.one("status"), "status")
    if status is not None:
        campaigns = [c for c in campaigns if c["status"] == status]
    tag_ids = request.many("tag_ids")
    if tag_ids:
        campaigns = [c for c in campaigns if set(tag_ids) & set(c["email_tag_list"])]
    return page(campaigns, "id", request.one("limit"), request.one("starting_after"))


def get_campaign(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    return workspace.campaign(uuid_param(id, "params/id"))


def campaign_analytics(workspace: SandboxWorkspace, request: Request) -> Any:
    ids = request.many("ids") or request.many("id")
    for value in ids or ():
        uuid_param(value, "querystring/ids")
    start, end = date_range(request)
    return workspace.campaign_analytics(ids, start, end)


def campaign_daily_analytics(workspace: SandboxWorkspace, request: Request) -> Any:
    campaign_id = request.one("campaign_id") or request.one("id")
    # Like the mailbox figures: the last 30 days without a start_date (unconfirmed for this
    # endpoint, documented for /accounts/analytics/daily), so a sync must ask for history.
    start, end = _default_window(workspace, *date_range(request))
    if campaign_id is not None:
        uuid_param(campaign_id, "querystring/campaign_id")
    try:
        return workspace.campaign_daily_analytics(campaign_id, start, end)
    except NotFound:
        return []


def campaign_step_analytics(workspace: SandboxWorkspace, request: Request) -> Any:
    campaign_id = request.one("campaign_id") or request.one("id")
    start, end = date_range(request)
    if campaign_id is not None:
        uuid_param(campaign_id, "querystring/campaign_id")
    # Opportunities per step only when asked for (documented).
    opportunities = (request.one("include_opportunities_count") or "").lower() == "true"
    try:
        return workspace.campaign_step_analytics(campaign_id, start, end, opportunities)
    except NotFound:
        return []


def campaign_analytics_overview(workspace: SandboxWorkspace, request: Request) -> Any:
    """One campaign's overview (the sandbox answers only for one `id`; Instantly also sums
    several or all campaigns)."""
    campaign_id = request.one("id")
    if campaign_id is None:
        raise ValueError("querystring must have required property 'id' (sandbox)")
    start, end = date_range(request)
    return workspace.campaign_analytics_overview(
        uuid_param(campaign_id, "querystring/id"), start, end
    )


# GET /accounts/analytics/daily: "Defaults to a 30-day window ending at end_date. The maximum
# range is 31 days." (Instantly's API reference).
DEFAULT_WINDOW_DAYS = 30
MAX_ACCOUNT_WINDOW_DAYS = 31


def _default_window(workspace: SandboxWorkspace, start: Any, end: Any) -> tuple[Any, Any]:
    """(start, end) with Instantly's defaults: end today, start 30 days before end."""
    end = end or workspace.now.date()
    return start or end - timedelta(days=DEFAULT_WINDOW_DAYS - 1), end


# --- sending mailboxes ------------------------------------------------------------------------


def list_accounts(workspace: SandboxWorkspace, request: Request) -> Any:
    accounts = workspace.accounts
    search = (request.one("search") or "").lower()
    if search:
        accounts = [a for a in accounts if search in a["email"]]
    for name in ("status", "provider_code"):
        value = int_param(request.one(name), name)
        if value is not None:
            accounts = [a for a in accounts if a[name] == value]
    return page(accounts, "email", request.one("limit"), request.one("starting_after"))


def get_account(workspace: SandboxWorkspace, request: Request, email: str) -> Any:
    return workspace.account(email)


def account_daily_analytics(workspace: SandboxWorkspace, request: Request) -> Any:
    start, end = _default_window(workspace, *date_range(request))
    if (end - start).days + 1 > MAX_ACCOUNT_WINDOW_DAYS:
        raise ValueError(f"the date range must not exceed {MAX_ACCOUNT_WINDOW_DAYS} days")
    return workspace.account_daily_analytics(request.many("emails"), start, end)


# --- leads ------------------------------------------------------------------------------------


def create_lead(workspace: SandboxWorkspace, request: Request) -> Any:
    body = request.json()
    campaign = body.get("campaign")
    if campaign is None:
        raise ValueError("body must have required property 'campaign'")
    return workspace.add_lead(uuid_param(campaign, "body/campaign"), body)


def add_leads(workspace: SandboxWorkspace, request: Request) -> Any:
    body = request.json()
    campaign = body.get("campaign_id") or body.get("campaign")
    if campaign is None:
        raise ValueError("body must have required property 'campaign_id'")
    leads = body.get("leads")
    if not isinstance(leads, list) or not leads:
        raise ValueError("body/leads must be a non-empty array")
    if len(leads) > MAX_BULK_LEADS:
        raise ValueError(f"body/leads must NOT have more than {MAX_BULK_LEADS} items")
    return workspace.add_leads(
        uuid_param(campaign, "body/campaign_id"),
        leads,
        skip_if_in_workspace=bool(body.get("skip_if_in_workspace")),
    )


def list_leads(workspace: SandboxWorkspace, request: Request) -> Any:
    body = request.json()
    campaign = body.get("campaign")
    try:
        leads = workspace.leads(None if campaign is None else uuid_param(campaign, "campaign"))
    except NotFound:
        leads = []
    search = str(body.get("search") or "").lower()
    if search:
        fields = ("email", "first_name", "last_name", "company_name")
        leads = [
            lead
            for lead in leads
            if any(search in str(lead.get(name) or "").lower() for name in fields)
        ]
    if body.get("ids") is not None:
        wanted = set(list_of_strings(body["ids"], "body/ids"))
        leads = [lead for lead in leads if lead["id"] in wanted]
    if body.get("contacts") is not None:
        wanted = {e.lower() for e in list_of_strings(body["contacts"], "body/contacts")}
        leads = [lead for lead in leads if lead["email"] in wanted]
    limit = body.get("limit", request.one("limit"))
    cursor = body.get("starting_after", request.one("starting_after"))
    return page(leads, "id", limit, cursor)


def update_interest_status(workspace: SandboxWorkspace, request: Request) -> Any:
    body = request.json()
    if not isinstance(body.get("lead_email"), str) or not body["lead_email"]:
        raise ValueError("body must have required property 'lead_email'")
    if "interest_value" not in body:
        raise ValueError("body must have required property 'interest_value'")
    value = body["interest_value"]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError("body/interest_value must be number,null")
    campaign_id = body.get("campaign_id")
    if campaign_id is not None:
        uuid_param(campaign_id, "body/campaign_id")
    return workspace.update_interest(
        body["lead_email"], None if value is None else int(value), campaign_id
    )


def list_lead_labels(workspace: SandboxWorkspace, request: Request) -> Any:
    return page(workspace.lead_labels(), "id", request.one("limit"), request.one("starting_after"))


def delete_lead(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    return workspace.delete_lead(uuid_param(id, "params/id"))


# --- unibox -----------------------------------------------------------------------------------


def list_emails(workspace: SandboxWorkspace, request: Request) -> Any:
    campaign_id = request.one("campaign_id")
    try:
        emails = workspace.emails(
            None if campaign_id is None else uuid_param(campaign_id, "querystring/campaign_id")
        )
    except NotFound:
        emails = []
    lead = (request.one("lead") or "").lower()
    if lead:
        emails = [e for e in emails if e["lead"] == lead]
    eaccount = request.one("eaccount")
    if eaccount:
        emails = [e for e in emails if e["eaccount"] == eaccount]
    unread = request.one("is_unread")
    if unread is not None:
        if unread.lower() not in ("true", "false", "1", "0"):
            raise ValueError("querystring/is_unread must be boolean")
        flag = 1 if unread.lower() in ("true", "1") else 0
        emails = [e for e in emails if e["is_unread"] == flag]
    email_type = request.one("email_type")
    if email_type is not None:
        types = {"received": {2}, "sent": {1, 3}, "manual": {3}}.get(email_type)
        if types is None:
            raise ValueError("querystring/email_type must be one of received, sent, manual")
        emails = [e for e in emails if e["ue_type"] in types]
    emails = _search_emails(emails, request.one("search") or "")
    order = (request.one("sort_order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise ValueError("querystring/sort_order must be asc or desc")
    limit, cursor = request.one("limit"), request.one("starting_after")
    return page(emails, "id", limit, cursor, descending=order == "desc")


def reply(workspace: SandboxWorkspace, request: Request) -> Any:
    body = request.json()
    for name in ("reply_to_uuid", "eaccount", "subject", "body"):
        if body.get(name) in (None, ""):
            raise ValueError(f"body must have required property '{name}'")
    if not isinstance(body["subject"], str) or not isinstance(body["body"], dict):
        raise ValueError("body/subject must be a string and body/body an object")
    reply_to = uuid_param(body["reply_to_uuid"], "body/reply_to_uuid")
    return workspace.reply(reply_to, body["eaccount"], body["subject"], body["body"])


# --- webhooks ---------------------------------------------------------------------------------


def list_webhooks(workspace: SandboxWorkspace, request: Request) -> Any:
    webhooks = list(workspace.webhooks.values())
    for name in ("campaign", "event_type"):
        value = request.one(name)
        if value:
            webhooks = [w for w in webhooks if w[name] == value]
    return page(webhooks, "id", request.one("limit"), request.one("starting_after"))


def create_webhook(workspace: SandboxWorkspace, request: Request) -> Any:
    body = request.json()
    _check_webhook_body(body)
    return workspace.create_webhook(body)


def update_webhook(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    body = request.json()
    _check_webhook_body(body)
    return workspace.update_webhook(uuid_param(id, "params/id"), body)


def delete_webhook(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    return workspace.delete_webhook(uuid_param(id, "params/id"))


def resume_webhook(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    return workspace.set_webhook_status(uuid_param(id, "params/id"), True)


# --- block list -------------------------------------------------------------------------------


def create_block_list_entry(workspace: SandboxWorkspace, request: Request) -> Any:
    value = request.json().get("bl_value")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("body must have required property 'bl_value'")
    return workspace.add_block_list_entry(value)


def delete_block_list_entry(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    return workspace.delete_block_list_entry(uuid_param(id, "params/id"))


# --- v1 ---------------------------------------------------------------------------------------


def v1_list_campaigns(workspace: SandboxWorkspace, request: Request) -> Any:
    skip = int_param(request.one("skip"), "skip") or 0
    limit = int_param(request.one("limit"), "limit") or 100
    campaigns = workspace.campaigns[skip : skip + limit]
    return [{"id": c["id"], "name": c["name"]} for c in campaigns]


def _search_emails(emails: list[dict[str, Any]], search: str) -> list[dict[str, Any]]:
    """`thread:<id>` finds a thread; anything else matches subject, addresses or preview."""
    if not search:
        return emails
    if search.startswith("thread:"):
        thread_id = search.split(":", 1)[1]
        return [e for e in emails if e["thread_id"] == thread_id]
    needle = search.lower()
    fields = ("subject", "from_address_email", "to_address_email_list", "content_preview")
    return [e for e in emails if any(needle in (e.get(name) or "").lower() for name in fields)]


def _check_webhook_body(body: dict[str, Any]) -> None:
    event_type = body.get("event_type")
    if event_type is not None and event_type not in (*SUBSCRIPTION_EVENT_TYPES, "all_events"):
        raise ValueError(f"body/event_type must be one of the webhook event types: {event_type}")
    if body.get("campaign") is not None:
        uuid_param(body["campaign"], "body/campaign")


# Most specific first: /campaigns/analytics must win over /campaigns/{id}.
ROUTES = (
    ("GET", "/api/v2/workspaces/current", get_workspace),
    ("GET", "/api/v2/campaigns", list_campaigns),
    ("GET", "/api/v2/campaigns/analytics", campaign_analytics),
    ("GET", "/api/v2/campaigns/analytics/daily", campaign_daily_analytics),
    ("GET", "/api/v2/campaigns/analytics/steps", campaign_step_analytics),
    ("GET", "/api/v2/campaigns/analytics/overview", campaign_analytics_overview),
    ("GET", "/api/v2/lead-labels", list_lead_labels),
    ("GET", "/api/v2/campaigns/{id}", get_campaign),
    ("GET", "/api/v2/accounts", list_accounts),
    ("GET", "/api/v2/accounts/analytics/daily", account_daily_analytics),
    ("GET", "/api/v2/accounts/{email}", get_account),
    ("POST", "/api/v2/leads", create_lead),
    ("POST", "/api/v2/leads/add", add_leads),
    ("POST", "/api/v2/leads/list", list_leads),
    ("POST", "/api/v2/leads/update-interest-status", update_interest_status),
    ("DELETE", "/api/v2/leads/{id}", delete_lead),
    ("GET", "/api/v2/emails", list_emails),
    ("POST", "/api/v2/emails/reply", reply),
    ("GET", "/api/v2/webhooks", list_webhooks),
    ("POST", "/api/v2/webhooks", create_webhook),
    ("PATCH", "/api/v2/webhooks/{id}", update_webhook),
    ("DELETE", "/api/v2/webhooks/{id}", delete_webhook),
    ("POST", "/api/v2/webhooks/{id}/resume", resume_webhook),
    ("POST", "/api/v2/block-lists-entries", create_block_list_entry),
    ("DELETE", "/api/v2/block-lists-entries/{id}", delete_block_list_entry),
    ("GET", "/api/v1/campaign/list", v1_list_campaigns),
)


# --- webhook delivery log and test deliveries (history backfill and reconciliation) -----------


def list_webhook_events(workspace: SandboxWorkspace, request: Request) -> Any:
    """GET /api/v2/webhook-events: Instantly's log of delivery attempts, newest first
    (unconfirmed order); `success` filters on the outcome."""
    from instantly.sandbox.delivery_log import log_of

    entries = log_of(workspace).newest_first()
    success = request.one("success")
    if success is not None:
        if success.lower() not in ("true", "false"):
            raise ValueError("querystring/success must be boolean")
        entries = [e for e in entries if e["success"] is (success.lower() == "true")]
    limit, cursor = request.one("limit"), request.one("starting_after")
    return page(entries, "id", limit, cursor, descending=True)


def test_webhook(workspace: SandboxWorkspace, request: Request, id: str) -> Any:
    """POST /api/v2/webhooks/{id}/test: answers at once, delivers in the background."""
    from instantly.sandbox.delivery_log import send_test

    return send_test(workspace, uuid_param(id, "params/id"))


ROUTES = (
    ("GET", "/api/v2/webhook-events", list_webhook_events),
    ("POST", "/api/v2/webhooks/{id}/test", test_webhook),
    *ROUTES,
)
