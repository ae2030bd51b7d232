"""What a sync asks Instantly for, and which of it it needs to ask at all.

Every function here only reads from the client (HTTP, outside any database transaction); the
run loop (`run`) decides what runs in which thread, the writer (`write`) stores the answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from instantly import schemas
from instantly.client import InstantlyClient
from instantly.models import ProviderConnection
from salesbrain.bulk import chunks

# Campaign ids per GET /campaigns/analytics call (the ids go into the query string).
ANALYTICS_IDS_PER_CALL = 100
# Daily figures are re-read from this long before the last successful sync (see figures_since).
DAILY_FIGURES_OVERLAP = dt.timedelta(days=2)


@dataclasses.dataclass
class CampaignFigures:
    """One campaign's daily and per-step analytics, as fetched."""

    instantly_id: str
    daily: list[schemas.CampaignDailyAnalytics]
    steps: list[schemas.CampaignStepAnalytics]


def list_accounts(client: InstantlyClient) -> list[schemas.EmailAccount]:
    """Every mailbox once (a page boundary may repeat one; the last copy wins)."""
    return dedupe(client.iter_accounts(), key=lambda account: account.email.lower())


def list_campaigns(client: InstantlyClient) -> list[schemas.Campaign]:
    """Every campaign once."""
    return dedupe(client.iter_campaigns(), key=lambda campaign: campaign.id)


def dedupe(items: Iterable[Any], key: Callable[[Any], str]) -> list[Any]:
    """Listed objects, each once (a page boundary can repeat one); the last copy wins."""
    return list({key(item): item for item in items}.values())


def fetch_campaign_totals(
    client: InstantlyClient, campaign_ids: Sequence[str]
) -> dict[str, schemas.CampaignAnalytics]:
    """Totals per campaign id, asked for `ANALYTICS_IDS_PER_CALL` ids per request.

    A campaign that never sent has no row (Instantly answers nothing for it)."""
    totals: dict[str, schemas.CampaignAnalytics] = {}
    for batch in chunks(campaign_ids, ANALYTICS_IDS_PER_CALL):
        for row in client.get_campaign_analytics(ids=batch):
            totals[row.campaign_id] = row
    return totals


def fetch_campaign_figures(
    client: InstantlyClient, instantly_id: str, since: dt.date | None = None
) -> CampaignFigures:
    """One campaign's daily rows (from `since`, else all) and per-step rows (two requests)."""
    return CampaignFigures(
        instantly_id=instantly_id,
        daily=client.get_campaign_daily_analytics(instantly_id, start_date=since),
        steps=client.get_campaign_step_analytics(instantly_id),
    )


def figures_to_fetch(
    stored: dict[str, dict[str, Any]],
    totals: dict[str, schemas.CampaignAnalytics],
    *,
    full: bool,
) -> list[str]:
    """Instantly ids of the campaigns whose daily and step figures must be (re)fetched.

    Unchanged totals mean no new activity, hence unchanged figures: skipping those saves two
    requests per campaign per run. Totals are stored in the same transaction as the figures
    (`WorkspaceWriter.save_campaign_figures`), so a run that died half-way is caught up by the
    next. A campaign with no totals row never sent: there is nothing to fetch.
    """
    return [iid for iid, row in totals.items() if full or row.raw != stored.get(iid, {})]


def figures_since(connection: ProviderConnection, *, full: bool) -> dt.date | None:
    """First day whose daily figures a sync asks for: all of them on a first or full sync,
    else from shortly before the last successful sync (older days no longer change; the
    overlap covers time zones and late events)."""
    if full or connection.last_synced_at is None:
        return None
    return (connection.last_synced_at - DAILY_FIGURES_OVERLAP).date()
