"""A workspace as a file: `export_workspace` fetches everything a sync mirrors as the raw
payloads, `import_workspace` feeds such a file through the sync's own writer, so a file and
the API land in the database the same way (`manage.py instantly_export` / `instantly_import`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.utils import timezone

from instantly import schemas
from instantly.client import ACCOUNT_ANALYTICS_MAX_EMAILS, InstantlyClient
from instantly.models import ProviderConnection
from salesbrain.bulk import chunks

from .fetch import (
    CampaignFigures,
    fetch_campaign_figures,
    fetch_campaign_totals,
    list_accounts,
    list_campaigns,
)
from .results import Progress, SyncResult, silent
from .run import DEFAULT_CONCURRENCY, exclusive
from .write import FIGURES_BATCH, WorkspaceWriter

EXPORT_FORMAT = "salesbrain.instantly-export"
EXPORT_VERSION = 1
# Mailbox daily rows written per transaction on import.
ACCOUNT_DAILY_BATCH = 5000


def export_workspace(
    client: InstantlyClient,
    *,
    include_leads: bool = False,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[str, Any]:
    """Everything a sync mirrors, fetched fresh, as JSON-ready data (the raw payloads).

    `include_leads` adds every lead of the workspace; they are kept for inspection only
    (a sync does not mirror leads, so `import_workspace` skips them).
    """
    say = progress or silent
    workspace = client.get_current_workspace()
    client.workspace_key = workspace.id
    accounts = list_accounts(client)
    say(f"mailboxes: {len(accounts)} listed")
    campaigns = list_campaigns(client)
    say(f"campaigns: {len(campaigns)} listed")
    totals = fetch_campaign_totals(client, [c.id for c in campaigns])
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "workspace": workspace.raw,
        "accounts": [a.raw for a in accounts],
        "campaigns": [c.raw for c in campaigns],
        "campaign_analytics": [row.raw for row in totals.values()],
        "campaign_daily_analytics": {},
        "campaign_step_analytics": {},
        "account_daily_analytics": [],
    }
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        try:
            mailbox_jobs = [
                pool.submit(client.get_account_daily_analytics, chunk)
                for chunk in chunks([a.email for a in accounts], ACCOUNT_ANALYTICS_MAX_EMAILS)
            ]
            figure_jobs = [pool.submit(fetch_campaign_figures, client, iid) for iid in totals]
            for job in mailbox_jobs:
                data["account_daily_analytics"].extend(row.raw for row in job.result())
            for job in figure_jobs:
                figures = job.result()
                iid = figures.instantly_id
                data["campaign_daily_analytics"][iid] = [row.raw for row in figures.daily]
                data["campaign_step_analytics"][iid] = [row.raw for row in figures.steps]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    say(f"figures: {len(data['campaign_daily_analytics'])} campaign(s)")
    if include_leads:
        data["leads"] = [lead.raw for lead in client.iter_leads()]
        say(f"leads: {len(data['leads'])}")
    return data


def import_workspace(
    connection: ProviderConnection, data: dict[str, Any], *, progress: Progress | None = None
) -> SyncResult:
    """Load an `export_workspace` file for `connection` with the sync's own writer (idempotent).

    Like a sync it marks campaigns and mailboxes missing from the file as vanished.
    """
    if data.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not an {EXPORT_FORMAT} file")
    if data.get("version") != EXPORT_VERSION:
        raise ValueError(f"unsupported export version {data.get('version')!r}")
    say = progress or silent
    started = time.monotonic()
    result = SyncResult(connection_id=str(connection.pk))
    writer = WorkspaceWriter(connection)
    with exclusive(connection):
        writer.save_workspace(schemas.Workspace.model_validate(data["workspace"]), result)
        accounts = _parse_all(schemas.EmailAccount, data.get("accounts", []))
        result.accounts = writer.save_accounts(accounts)
        say(f"mailboxes: {result.accounts}")
        campaigns = _parse_all(schemas.Campaign, data.get("campaigns", []))
        result.campaigns, result.senders = writer.save_campaigns(campaigns)
        say(f"campaigns: {result.campaigns}")
        totals = {
            row.campaign_id: row
            for row in _parse_all(schemas.CampaignAnalytics, data.get("campaign_analytics", []))
        }
        writer.record_totals(totals, result.analytics)
        # A file is a full snapshot: apply every campaign's figures, changed totals or not.
        daily = data.get("campaign_daily_analytics", {})
        steps = data.get("campaign_step_analytics", {})
        figures = [
            CampaignFigures(
                instantly_id=iid,
                daily=_parse_all(schemas.CampaignDailyAnalytics, daily.get(iid, [])),
                steps=_parse_all(schemas.CampaignStepAnalytics, steps.get(iid, [])),
            )
            for iid in totals
            if iid in writer.campaigns
        ]
        for batch in chunks(figures, FIGURES_BATCH):
            writer.save_campaign_figures(batch, totals, result)
        result.figures_fetched = len(figures)
        rows = _parse_all(schemas.AccountDailyAnalytics, data.get("account_daily_analytics", []))
        for batch in chunks(rows, ACCOUNT_DAILY_BATCH):
            result.account_daily.add(writer.save_account_daily(batch))
    result.duration = time.monotonic() - started
    return result


def _parse_all(schema: type[schemas.InstantlyModel], items: Iterable[Any]) -> list[Any]:
    return [schema.model_validate(item) for item in items]
