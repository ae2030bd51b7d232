"""Campaigns: status, schedule, a multi-step sequence with variants, and sending mailboxes.

Coverage order: campaign number i < len(CAMPAIGN_STATUSES) gets that status, so even a small
workspace shows every code; later ones draw from the weights. Active comes first so a
one-campaign workspace still has traffic.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from .common import ANCHOR, Clock, cover, html_of, uuid7

CAMPAIGN_STATUSES = (1, 2, 3, 0, 4, -1, -2, -99)
CAMPAIGN_STATUS_WEIGHTS = (60, 10, 12, 8, 3, 3, 2, 2)
SEGMENTS = ("SaaS founders", "Dental clinics", "Logistics", "Law firms", "E-commerce", "Fintech")
REGIONS = ("US", "UK", "DACH", "Nordics", "Canada", "ANZ")
OFFERS = ("Outbound audit", "Lead gen pilot", "Webinar invite", "Case study", "Free trial")
TIMEZONES = ("America/Chicago", "America/New_York", "Europe/London", "Europe/Berlin")

STEP_ONE_SUBJECTS = (
    "{{firstName}}, quick question about {{companyName}}",
    "Idea for {{companyName}}",
    "{{companyName}} + Salesbrain",
)
STEP_BODIES = (
    "Hi {{firstName}},\n\nI noticed {{companyName}} is hiring for its sales team. We help teams "
    "like yours book 20+ qualified meetings a month without adding headcount.\n\nWorth a "
    "15-minute chat next week?\n\n{{sendingAccountFirstName}}",
    "Hi {{firstName}},\n\nJust bumping this up in case it got buried. Happy to send a short "
    "case study from a company similar to {{companyName}}.\n\n{{sendingAccountFirstName}}",
    "Hi {{firstName}},\n\nShould I reach out to someone else at {{companyName}} about "
    "outbound?\n\n{{sendingAccountFirstName}}",
    "Hi {{firstName}},\n\nI'll stop here. If outbound becomes a priority, just reply to this "
    "email.\n\n{{sendingAccountFirstName}}",
)


def make_campaign(
    rng: random.Random,
    index: int,
    *,
    workspace: dict[str, Any],
    account_emails: list[str],
    tag_ids: list[str],
    clock: Clock,
) -> dict[str, Any]:
    created = ANCHOR - timedelta(days=rng.uniform(35, 60), seconds=index)
    status = cover(rng, index, CAMPAIGN_STATUSES, CAMPAIGN_STATUS_WEIGHTS)
    segment, region, offer = rng.choice(SEGMENTS), rng.choice(REGIONS), rng.choice(OFFERS)
    steps = []
    for step in range(rng.randint(1, 4)):
        variants = []
        for number in range(rng.randint(1, 3)):
            # Follow-ups with an empty subject go out as "Re: <first subject>" in the thread.
            subject = rng.choice(STEP_ONE_SUBJECTS) if step == 0 else ""
            body = STEP_BODIES[step]
            if number:
                body = body.replace("Hi {{firstName}}", "Hey {{firstName}}")
            variants.append({"subject": subject, "body": html_of(body), "v_disabled": False})
        if len(variants) > 1 and rng.random() < 0.2:
            variants[-1]["v_disabled"] = True
        steps.append(
            {
                "type": "email",
                "delay": rng.randint(1, 4),
                "delay_unit": "days",
                "variants": variants,
            }
        )
    sender_count = min(len(account_emails), rng.randint(1, 6))
    days = {str(day): 1 <= day <= 5 for day in range(7)}
    return {
        "id": uuid7(rng, created),
        "name": f"{segment} {region} - {offer} #{index + 1}",
        "status": status,
        "timestamp_created": clock.ts(created),
        "timestamp_updated": clock.ts(ANCHOR - timedelta(hours=rng.uniform(1, 96))),
        "organization": workspace["id"],
        "owned_by": workspace["owner"],
        "pl_value": rng.choice((500, 1000, 2500, 5000)),
        "is_evergreen": rng.random() < 0.1,
        "campaign_schedule": {
            "start_date": (created + clock.shift).date().isoformat(),
            "end_date": None,
            "schedules": [
                {
                    "name": "Business hours",
                    "timing": {"from": "09:00", "to": rng.choice(("17:00", "18:00"))},
                    "days": days,
                    "timezone": rng.choice(TIMEZONES),
                }
            ],
        },
        "sequences": [{"steps": steps}],
        "email_gap": rng.choice((5, 10, 15)),
        "random_wait_max": rng.choice((5, 10)),
        "text_only": rng.random() < 0.15,
        "email_list": rng.sample(account_emails, sender_count),
        "email_tag_list": rng.sample(tag_ids, rng.randint(0, 2)),
        "daily_limit": rng.choice((50, 100, 200, 500)),
        "daily_max_leads": rng.choice((25, 50, 100)),
        "stop_on_reply": rng.random() < 0.9,
        "stop_on_auto_reply": rng.random() < 0.3,
        "link_tracking": rng.random() < 0.6,
        "open_tracking": rng.random() < 0.8,
        "prioritize_new_leads": False,
        "match_lead_esp": rng.random() < 0.3,
        "allow_risky_contacts": False,
        "disable_bounce_protect": False,
        "insert_unsubscribe_header": True,
        "cc_list": [],
        "bcc_list": [],
    }


def not_sending_status(campaign: dict[str, Any], index: int) -> int | None:
    """Campaign `not_sending_status` (1 outside schedule, 2 waiting for a lead, 3 daily limit,
    4 every mailbox at its limit, 99 error; null when sending or not active). Drawn from the
    campaign's number, not the RNG, so adding it changed no other generated value."""
    if campaign["status"] != 1:
        return None
    return {1: 1, 4: 3, 7: 4}.get(index % 8)
