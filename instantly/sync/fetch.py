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
# GET /accounts/analytics/daily answers at most 31 days per call ("The maximum range is 31
# days"; without start_date it answers the last 30): history is asked for window by window.
ACCOUNT_ANALYTICS_WINDOW = dt.timedelta(days=31)
# The first day asked for when nothing better is known (a mailbox or campaign without its
# creation time): before Instantly's API v2 existed nothing can have been sent through it.
HISTORY_FLOOR = dt.date(2020, 1, 1)


@dataclasses.dataclass
class CampaignFigures:
    """One campaign's daily and per-step analytics, as fetched."""

    instantly_id: str
    daily: list[schemas.CampaignDailyAnalytics]
    steps: list[schemas.CampaignStepAnalytics]
    overview: schemas.CampaignAnalyticsOverview | None = None


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
    client: InstantlyClient,
    instantly_id: str,
    since: dt.date | None = None,
    created: dt.date | None = None,
) -> CampaignFigures:
    """One campaign's daily rows (from `since`, else its whole history), per-step rows and
    overview totals (three requests).

    Every call names its start: Instantly answers the last 30 days of mailbox figures when no
    `start_date` is sent, and its campaign endpoints' default is undocumented, so history is
    asked for from the campaign's creation (`created`). Steps and the overview are totals over
    the campaign's whole life, so they always start there."""
    beginning = created or HISTORY_FLOOR
    return CampaignFigures(
        instantly_id=instantly_id,
        daily=client.get_campaign_daily_analytics(instantly_id, start_date=since or beginning),
        steps=client.get_campaign_step_analytics(instantly_id, start_date=beginning),
        overview=client.get_campaign_analytics_overview(instantly_id, start_date=beginning),
    )


def account_windows(start: dt.date, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(start_date, end_date) pairs covering `start`..`today`, each within the mailbox daily
    endpoint's 31-day limit, oldest first."""
    windows = []
    while start <= today:
        end = min(start + ACCOUNT_ANALYTICS_WINDOW - dt.timedelta(days=1), today)
        windows.append((start, end))
        start = end + dt.timedelta(days=1)
    return windows


def account_history_start(
    accounts: Sequence[schemas.EmailAccount], since: dt.date | None
) -> dt.date:
    """First day of mailbox figures to ask for: `since` on an incremental sync, else the day
    the oldest of these mailboxes was added to Instantly (none can have sent before)."""
    if since is not None:
        return since
    created = [a.timestamp_created.date() for a in accounts if a.timestamp_created is not None]
    return max(min(created), HISTORY_FLOOR) if created else HISTORY_FLOOR


def created_day(campaign: schemas.Campaign) -> dt.date | None:
    """The UTC day a campaign was created in Instantly, if it says."""
    created = campaign.timestamp_created
    if created is None:
        return None
    if created.tzinfo is not None:
        created = created.astimezone(dt.UTC)
    return created.date()


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
