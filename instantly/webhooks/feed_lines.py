"""One live-feed line from one applied event (the row `messaging.feed` records)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def feed_line(
    item, organization_id: Any, kind: str, title: str, now: dt.datetime, note: str = ""
) -> dict:
    """The feed row for `item` (an `apply._Item`) in one organization's feed; `note` (a
    reply's category) ends its detail."""
    f = item.fields
    lead = " ".join(filter(None, (f.first_name, f.last_name))) or f.lead_email or "a lead"
    detail = f.campaign_name or ""
    if note:
        detail = f"{detail} · {note}" if detail else note
    mailbox = f.email_account or "(unknown)"
    label = f.label or "Custom label"
    return {
        "organization_id": organization_id,
        "kind": kind,
        "title": title.format(lead=lead, mailbox=mailbox, label=label)[:300],
        "detail": detail[:300],
        "occurred_at": item.at,
        "created_at": now,
        "campaign_id": item.campaign.id if item.campaign else None,
        "lead_id": item.lead_id,
        "thread_id": item.thread_id,
        "source_event_id": item.event.id,
    }
