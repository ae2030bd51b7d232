"""Leads and their stories: who each lead is, how far the sequence got, what they did.

One activity log per lead (sent, opened, clicked, replied, ...) feeds the Unibox, the lead
counters, every analytics endpoint and the webhook generator, so they all agree with each other.
The first leads of a campaign cover every lead status and interest status; later ones draw
from the weights.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .common import (
    ANCHOR,
    FIRST_NAMES,
    HISTORY_DAYS,
    LAST_NAMES,
    Activity,
    CampaignData,
    Clock,
    cover,
    slug,
    uuid4,
    uuid7,
)

LEAD_STATUSES = (1, 2, 3, -1, -2, -3)
LEAD_STATUS_WEIGHTS = (45, 4, 30, 8, 5, 8)
# The workspace's custom lead labels (GET /lead-labels). Instantly gives each an interest value
# of its own ("generated automatically"); the numbers here are made up (their range in real
# workspaces is unconfirmed). A label's name is sent as-is as a webhook's event_type, so one
# is spelled like a person would and one like a machine name.
CUSTOM_LABELS = (
    {"label": "Hot Prospect", "interest_status_label": "positive", "interest_status": 101},
    {"label": "follow_up", "interest_status_label": "neutral", "interest_status": 102},
)
CUSTOM_INTEREST_VALUES = tuple(label["interest_status"] for label in CUSTOM_LABELS)
INTEREST_STATUSES = (1, 2, 3, 4, 0, -1, -2, -3, -4, *CUSTOM_INTEREST_VALUES)
INTEREST_STATUS_WEIGHTS = (30, 15, 8, 5, 15, 15, 6, 4, 2, 4, 3)
# The labels a lead goes through to reach its final interest status; every positive path starts
# with "interested" (1), which is what counts as an opportunity.
INTEREST_PATHS = {
    1: (1,),
    2: (1, 2),
    3: (1, 2, 3),
    4: (1, 2, 3, 4),
    0: (0,),
    -1: (-1,),
    -2: (-2,),
    -3: (1, -3),
    -4: (1, 2, -4),
    101: (1, 101),  # "Hot Prospect" (positive) after "interested"
    102: (102,),  # "follow_up" (neutral)
}
OPPORTUNITY = 1

COMPANIES = tuple(
    name.strip()
    for name in (
        "Northwind Logistics, Bluepeak Analytics, Copperleaf Health, Driftwood Studios, "
        "Evergreen Payroll, Foxglove Robotics, Granite Ledger, Harborline Freight, "
        "Ironbark Security, Juniper Dental Group, Keystone Fintech, Lumen Solar, "
        "Maple & Finch Legal, Nimbus HR, Orchard Foods, Pinecrest Realty, Quarry Labs, "
        "Redwood Insurance, Saltmarsh Marine, Tidewater Clinics, Umbra Cyber, Vantage Fleet, "
        "Willow Learning, Yellowstone Outfitters, Zephyr Travel"
    ).split(",")
)
JOB_TITLES = tuple(
    name.strip()
    for name in (
        "Head of Sales, VP Marketing, Founder & CEO, Operations Manager, CTO, Head of Growth, "
        "Office Manager, Director of Finance, RevOps Lead"
    ).split(",")
)
CITIES = ("Austin", "Berlin", "Chicago", "Denver", "Dublin", "Lisbon", "London", "Toronto")

# What POST /leads and /leads/add accept.
BLOCKED_DOMAINS = frozenset({"blocked.example"})
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
OPTIONAL_LEAD_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "website",
    "phone",
    "personalization",
)

Plan = list[tuple[str, float, int, int, int | None]]


def build_leads(
    rng: random.Random,
    campaign: dict[str, Any],
    count: int,
    workspace: dict[str, Any],
    clock: Clock,
) -> CampaignData:
    """The leads (in id order) and activity (in time order) of one campaign."""
    data = CampaignData()
    leads = []
    seen_emails: set[str] = set()
    for number in range(count):
        lead, activity = _make_lead(rng, campaign, number, seen_emails, workspace, clock)
        leads.append(lead)
        data.activity.extend(activity)
        data.stories[lead["id"]] = (lead, uuid4(rng))
    for lead in sorted(leads, key=lambda lead: lead["id"]):
        data.leads[lead["id"]] = lead
    data.activity.sort(key=lambda a: (a.at, a.lead_id))
    return data


def _make_lead(
    rng: random.Random,
    campaign: dict[str, Any],
    number: int,
    seen: set[str],
    workspace: dict[str, Any],
    clock: Clock,
) -> tuple[dict[str, Any], list[Activity]]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = rng.choice(COMPANIES)
    domain = f"{slug(company)}.example"
    email = f"{first.lower()}.{last.lower()}@{domain}"
    if email in seen:
        email = f"{first.lower()}.{last.lower()}{number}@{domain}"
    seen.add(email)
    variables = {
        "firstName": first,
        "lastName": last,
        "companyName": company,
        "jobTitle": rng.choice(JOB_TITLES),
        "city": rng.choice(CITIES),
    }
    status, interest = _lead_outcome(rng, campaign, number)
    plan = [] if campaign["status"] == 0 else _lead_plan(rng, campaign, status, interest)
    span = plan[-1][1] if plan else 0.0
    window = HISTORY_DAYS * 86400 - 3600
    start = ANCHOR - timedelta(seconds=span + rng.uniform(600, max(600, window - span)))
    created = start - timedelta(hours=rng.uniform(1, 48))
    lead_id = uuid7(rng, created)
    lead = {
        "id": lead_id,
        "timestamp_created": clock.ts(created),
        "timestamp_updated": clock.ts(start + timedelta(seconds=span)),
        "organization": workspace["id"],
        "campaign": campaign["id"],
        "email": email,
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "company_domain": domain,
        "website": f"https://www.{domain}",
        "phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        "personalization": f"Loved the recent {company} announcement.",
        "status": status,
        "verification_status": 1,
        "upload_method": "api",
        "uploaded_by": workspace["owner"],
        "email_open_count": 0,
        "email_reply_count": 0,
        "email_click_count": 0,
        "payload": variables,
    }
    if interest is not None:
        lead["lt_interest_status"] = interest
    eaccount = campaign["email_list"][number % len(campaign["email_list"])]
    activity: list[Activity] = []
    for kind, offset, step, variant, value in plan:
        at = start + timedelta(seconds=offset)
        email_id = uuid7(rng, at) if kind in ("sent", "replied", "auto_replied") else None
        activity.append(
            Activity(kind, at + clock.shift, lead_id, step, variant, eaccount, email_id, value)
        )
        _count_on_lead(lead, kind, clock.ts(at), step, variant)
    return lead, activity


def _lead_outcome(
    rng: random.Random, campaign: dict[str, Any], number: int
) -> tuple[int, int | None]:
    """Final (status, lt_interest_status) of a lead; the first leads cover every code."""
    if campaign["status"] == 0:
        return 1, None
    if number < len(LEAD_STATUSES):
        return LEAD_STATUSES[number], None
    interest_slot = number - len(LEAD_STATUSES)
    if interest_slot < len(INTEREST_STATUSES) or rng.random() < 0.15:
        interest = cover(rng, interest_slot, INTEREST_STATUSES, INTEREST_STATUS_WEIGHTS)
        return (3 if campaign["stop_on_reply"] else 1), interest
    return rng.choices(LEAD_STATUSES, LEAD_STATUS_WEIGHTS)[0], None


def _lead_plan(
    rng: random.Random, campaign: dict[str, Any], status: int, interest: int | None
) -> Plan:
    """A lead's story as (kind, seconds after its first send, step, variant, value)."""
    steps = campaign["sequences"][0]["steps"]
    if status == -3:
        return [("skipped", 0.0, 1, 1, None)]
    if status == -1:
        sends = 1
    elif status == 3 and interest is None:
        sends = len(steps)
    elif status in (1, 2) and interest is None:
        sends = rng.randint(0, len(steps) - 1)
    else:
        sends = rng.randint(1, len(steps))
    plan: Plan = []
    t = 0.0
    variant = 1
    for step in range(1, sends + 1):
        if step > 1:
            t += steps[step - 2]["delay"] * 86400 + rng.uniform(-7200, 7200)
        enabled = [i + 1 for i, v in enumerate(steps[step - 1]["variants"]) if not v["v_disabled"]]
        variant = rng.choice(enabled)
        plan.append(("sent", t, step, variant, None))
        if status == -1:
            plan.append(("bounced", t + rng.uniform(60, 1800), step, variant, None))
            return plan
        if campaign["open_tracking"] and rng.random() < 0.55:
            opens = sorted(t + rng.uniform(300, 72000) for _ in range(rng.randint(1, 3)))
            plan.extend(("opened", at, step, variant, None) for at in opens)
            if campaign["link_tracking"] and rng.random() < 0.3:
                plan.append(("clicked", opens[0] + rng.uniform(10, 600), step, variant, None))
    last_step = sends
    end = t + 86400 * 3
    if status == -2:
        plan.append(("unsubscribed", t + rng.uniform(1800, 172800), last_step, variant, None))
    elif interest is not None or (status == 3 and rng.random() < 0.25):
        reply_at = t + rng.uniform(3600, 172800)
        kind = "auto_replied" if interest == 0 else "replied"
        plan.append((kind, reply_at, last_step, variant, None))
        for value in INTEREST_PATHS.get(interest, ()):
            reply_at += rng.uniform(600, 86400)
            plan.append(("interest", reply_at, last_step, variant, value))
    elif status == 3:
        plan.append(("completed", end, last_step, variant, None))
    plan.sort(key=lambda item: item[1])
    return plan


def _count_on_lead(lead: dict[str, Any], kind: str, ts: str, step: int, variant: int) -> None:
    """Keep the lead's counters and last-* timestamps in line with its activity."""
    if kind == "sent":
        lead["timestamp_last_contact"] = ts
        lead["last_step_timestamp_executed"] = ts
    elif kind == "opened":
        lead["email_open_count"] += 1
        lead["timestamp_last_open"] = ts
        lead.setdefault("email_opened_step", step)
        lead.setdefault("email_opened_variant", variant)
    elif kind == "clicked":
        lead["email_click_count"] += 1
        lead["timestamp_last_click"] = ts
        lead.setdefault("email_clicked_step", step)
        lead.setdefault("email_clicked_variant", variant)
    elif kind in ("replied", "auto_replied"):
        lead["email_reply_count"] += 1
        lead["timestamp_last_reply"] = ts
        lead["email_replied_step"] = step
        lead["email_replied_variant"] = variant
    elif kind == "interest":
        lead["timestamp_last_interest_change"] = ts


# --- leads added through the API ---------------------------------------------------------------


def check_new_lead(fields: Mapping[str, Any]) -> None:
    """Refuse what POST /leads refuses (ValueError with Instantly's wording)."""
    email = fields.get("email")
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        raise ValueError('body/email must match format "email"')
    if not is_flat(fields.get("custom_variables") or {}):
        raise ValueError("body/custom_variables values must be strings, numbers or booleans")


def new_lead(
    fields: Mapping[str, Any],
    *,
    lead_id: str,
    ts: str,
    campaign_id: str,
    workspace: dict[str, Any],
) -> dict[str, Any]:
    """A lead created through the API (checked with `check_new_lead` first)."""
    lead = {
        "id": lead_id,
        "timestamp_created": ts,
        "timestamp_updated": ts,
        "organization": workspace["id"],
        "campaign": campaign_id,
        "email": fields["email"].lower(),
        "status": 1,
        "verification_status": 0,
        "upload_method": "api",
        "uploaded_by": workspace["owner"],
        "email_open_count": 0,
        "email_reply_count": 0,
        "email_click_count": 0,
        "payload": dict(fields.get("custom_variables") or {}),
    }
    for name in OPTIONAL_LEAD_FIELDS:
        if fields.get(name) is not None:
            lead[name] = str(fields[name])
    return lead


def is_flat(variables: Any) -> bool:
    """Instantly accepts custom variables with flat values only (no objects or arrays)."""
    return isinstance(variables, dict) and all(
        value is None or isinstance(value, str | int | float | bool) for value in variables.values()
    )
