"""Instantly's objects as our column values: one function per kind of row, no database.

The writer (`write`) compares these values with what is stored and writes the difference, so
everything that decides what a column holds lives here, next to Instantly's spellings.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from campaigns.models import CampaignStatus
from instantly import codes, schemas
from salesbrain.parsing import as_int

# GET /campaigns/analytics/steps: `variant` is documented as "starting from 0" (0 = A); `step`
# only as "the step number", with the example "1", the same number webhooks send (documented
# as starting at 1). So a row's step is stored as it comes and its variant plus one: step 1,
# variant 1 of a step row and of a webhook is the first email's variant A. Public code that
# reads the endpoint cannot tell either and checks for a step "0"; so does `step_key`, so a
# campaign whose rows do start at 0 still lines up. CampaignStepStat is 1-based throughout.
STEP_ANALYTICS_VARIANT_BASE = 0

# Our column <- Instantly's field, for each kind of figures row.
CAMPAIGN_DAILY_FIELDS = {
    "sent": "sent",
    "contacted": "contacted",
    "opened": "opened",
    "unique_opened": "unique_opened",
    "replied": "replies",
    "unique_replied": "unique_replies",
    "auto_replied": "replies_automatic",
    "clicked": "clicks",
    "unique_clicked": "unique_clicks",
    "opportunities": "opportunities",
}
CAMPAIGN_STEP_FIELDS = {
    "sent": "sent",
    "opened": "opened",
    "unique_opened": "unique_opened",
    "replied": "replies",
    "unique_replied": "unique_replies",
    "clicked": "clicks",
    "unique_clicked": "unique_clicks",
    "opportunities": "opportunities",
}
ACCOUNT_DAILY_FIELDS = {"sent": "sent", "bounced": "bounced", "replied": "replies"}


def lead_label_values(label: schemas.LeadLabel) -> dict[str, Any]:
    """A custom lead label's columns."""
    return {
        "label": (label.label or "").strip()[:120],
        "meaning": codes.label_meaning(label.interest_status_label),
        "interest_value": label.interest_status,
        "description": label.description or "",
        "raw": label.raw,
        "vanished_at": None,
    }


def account_values(
    account: schemas.EmailAccount,
    stored: dict[str, Any] | None,
    *,
    now: dt.datetime,
    organization_id: Any = None,
) -> dict[str, Any]:
    """A mailbox's columns; `stored` is its stored row (None for a new one), `organization_id`
    the organization of a dedicated workspace (None: keep the stored one)."""
    raw = account.raw
    values: dict[str, Any] = {
        "first_name": (account.first_name or "")[:120],
        "last_name": (account.last_name or "")[:120],
        "status": codes.mailbox_status(raw.get("status")),
        "status_message": raw.get("status_message"),
        "provider": codes.mail_provider(raw.get("provider_code")),
        "daily_limit": _count_or_none(account.daily_limit),
        "sending_gap": _count_or_none(account.sending_gap),
        "warmup_status": codes.warmup_status(raw.get("warmup_status")),
        "warmup_score": _score(account.stat_warmup_score),
        "warmup": _json_dict(raw.get("warmup")),
        "tracking_domain": (account.tracking_domain_name or "")[:255],
        "last_used_at": _aware(account.timestamp_last_used),
        "raw": raw,
        "upstream_created_at": _aware(account.timestamp_created),
        "upstream_updated_at": _aware(account.timestamp_updated),
        "vanished_at": None,
    }
    # The last error stays until another replaces it: it explains the mailbox's history.
    error = mailbox_error_text(raw.get("status_message"))
    if error and (stored is None or stored["last_error"] != error):
        values["last_error"] = error[:5000]
        values["last_error_at"] = _aware(account.timestamp_updated) or now
    if organization_id is not None:
        values["organization_id"] = organization_id
    return values


def campaign_values(
    campaign: schemas.Campaign, stored: dict[str, Any] | None, *, now: dt.datetime
) -> dict[str, Any]:
    """A campaign's columns (never its organization: staff assignments survive every sync)."""
    raw = campaign.raw
    status = codes.campaign_status(raw.get("status"))
    values: dict[str, Any] = {
        "name": (campaign.name or "")[:300],
        "status": status,
        "daily_limit": _count_or_none(campaign.daily_limit),
        "stop_on_reply": campaign.stop_on_reply,
        "open_tracking": campaign.open_tracking,
        "link_tracking": campaign.link_tracking,
        "text_only": campaign.text_only,
        "schedule": _json_dict(raw.get("campaign_schedule")),
        "sequences": _json_list(raw.get("sequences")),
        "sender_emails": [e for e in (campaign.email_list or []) if isinstance(e, str)],
        "not_sending_status": codes.not_sending_status(raw.get("not_sending_status")),
        "raw": raw,
        "is_placeholder": False,
        "upstream_created_at": _aware(campaign.timestamp_created),
        "upstream_updated_at": _aware(campaign.timestamp_updated),
        "vanished_at": None,
    }
    if status == CampaignStatus.COMPLETED and (stored is None or stored["completed_at"] is None):
        values["completed_at"] = _aware(campaign.timestamp_updated) or now
    return values


def figures(row: schemas.InstantlyModel, mapping: dict[str, str]) -> dict[str, int]:
    """Our counters from one analytics row; a figure Instantly did not send is left out."""
    values = {}
    for column, field in mapping.items():
        value = getattr(row, field, None)
        if value is not None:
            values[column] = max(0, int(value))
    return values


def steps_start_at_zero(rows: Iterable[schemas.CampaignStepAnalytics]) -> bool:
    """Whether one campaign's step rows number steps from 0 (a row has step "0"); they are
    expected from 1, like webhooks."""
    return any(as_int(row.raw.get("step")) == 0 for row in rows)


def step_key(
    row: schemas.CampaignStepAnalytics, *, zero_based_steps: bool = False
) -> tuple[int, int] | None:
    """1-based (step, variant), as webhooks number them, of a step analytics row; None for a
    row without a step (leads outside any sequence). A missing variant is the first (A)."""
    step = as_int(row.raw.get("step"))
    variant = as_int(row.raw.get("variant"))
    if step is None:
        return None
    step += 1 if zero_based_steps else 0
    variant = (STEP_ANALYTICS_VARIANT_BASE if variant is None else variant) + (
        1 - STEP_ANALYTICS_VARIANT_BASE
    )
    if step < 1 or variant < 1:
        return None
    return step, variant


def mailbox_error_text(status_message: Any) -> str:
    """The human part of a mailbox's `status_message` ("" when it is not in error)."""
    if isinstance(status_message, str):
        return status_message.strip()
    if isinstance(status_message, dict) and status_message:
        for key in ("e_message", "message", "response", "error", "code"):
            if status_message.get(key):
                return str(status_message[key]).strip()
        return json.dumps(status_message, sort_keys=True)
    return ""


def _count_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value >= 0 else None


def _score(value: Any) -> int | None:
    """A warmup score as a whole number 0..100."""
    if value is None:
        return None
    return max(0, min(100, round(float(value))))


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value


def _json_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _json_list(value: Any) -> list:
    return value if isinstance(value, list) else []
