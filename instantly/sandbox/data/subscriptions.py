"""Webhook subscriptions as Instantly's /webhooks endpoints keep them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


def new_webhook(webhook_id: str, ts: str, workspace_id: str) -> dict[str, Any]:
    """A subscription with Instantly's defaults, before the caller's fields are applied."""
    return {
        "id": webhook_id,
        "timestamp_created": ts,
        "timestamp_updated": ts,
        "organization": workspace_id,
        "name": None,
        "campaign": None,
        "event_type": "all_events",
        "target_hook_url": None,
        "headers": {},
        "status": 1,
        "timestamp_error": None,
    }


def apply_webhook_fields(
    webhook: dict[str, Any],
    fields: Mapping[str, Any],
    campaign_id: Callable[[str], str],
) -> None:
    """Copy the given fields onto `webhook`; ValueError with Instantly's wording on bad input.
    `campaign_id` answers a campaign's id or raises NotFound."""
    if "target_hook_url" in fields:
        url = fields["target_hook_url"]
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise ValueError('body/target_hook_url must match format "uri"')
        webhook["target_hook_url"] = url
    if "headers" in fields:
        headers = fields["headers"] or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ValueError("body/headers must be an object of string values")
        webhook["headers"] = dict(headers)
    if "campaign" in fields:
        campaign = fields["campaign"]
        webhook["campaign"] = None if campaign is None else campaign_id(campaign)
    for name in ("name", "event_type"):
        if name in fields:
            webhook[name] = fields[name]
