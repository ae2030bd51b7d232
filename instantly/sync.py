"""Mirror one Instantly workspace into the `campaigns` models: `sync_workspace(connection)`.

What is mirrored: the workspace's id and name, every sending mailbox, every campaign (with its
schedule, sequences and senders), each campaign's analytics totals, daily rows and per-step
rows, and each mailbox's daily figures, always with the provider's raw JSON kept beside.

How, so that it is cheap and safe to run every few minutes:
- Idempotent: every row is compared with what is stored and written only when it differs, in
  bulk; a second run over the same data writes nothing and reports everything unchanged.
- Nothing is deleted: a campaign or mailbox no longer listed gets `vanished_at`, cleared again if
  it comes back. Campaigns of the shared workspace stay unassigned (organization NULL) until
  staff assign them (`campaigns.assignment`), and no sync ever moves them; a dedicated
  connection's rows belong to its organization.
- Few requests: campaign totals are asked for 100 ids at a time, and a campaign's daily and step
  figures are fetched again only when its totals changed (or with `full=True`); after the first
  sync, daily figures are re-read from two days before the last successful one only. Requests
  run in a small thread pool while the main thread writes; the shared rate limiter keeps every
  thread under Instantly's budget.
- Short transactions: HTTP happens outside the database; each write batch opens its own
  `staff_scope()` (the sync works across organizations and on the shared workspace's NULL rows).

`import_workspace` feeds an `instantly_export` file through the same writer, so a file and the
API land in the database the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import connection as db_connection
from django.db import connections, models, router
from django.db.models import QuerySet
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    CampaignStepStat,
    EmailAccount,
    EmailAccountDailyStat,
)
from instantly import codes, schemas
from instantly.client import ACCOUNT_ANALYTICS_MAX_EMAILS, InstantlyClient
from instantly.connections import client_for, record_failure, record_success
from instantly.errors import InstantlyError
from instantly.models import ProviderConnection

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

# Campaign ids per GET /campaigns/analytics call (the ids go into the query string).
ANALYTICS_IDS_PER_CALL = 100
# Threads fetching per-campaign figures. Against the real API (a few hundred ms per call) they,
# not the rate limit, bound the speed. Our limiter counts a request when it leaves, Instantly
# when it arrives: in any second Instantly can see at most our 90 plus those already in flight,
# here 8 + 2 (the mailbox thread and the writing thread), so never more than its 100.
DEFAULT_CONCURRENCY = 8
# Campaigns whose figures are written per transaction.
FIGURES_BATCH = 100
# Rows per INSERT/UPDATE statement: big enough to be cheap, small enough that one statement's
# JSON (a campaign with its sequences weighs ~10 kB) stays a few MB.
BULK_BATCH = 250
# Instantly numbers steps and variants from 0 in GET /campaigns/analytics/steps, from 1 in
# webhooks; CampaignStepStat stores them 1-based like everything else.
STEP_ANALYTICS_BASE = 0
# Daily figures are re-read from this long before the last successful sync (see figures_since).
DAILY_FIGURES_OVERLAP = dt.timedelta(days=2)
EXPORT_FORMAT = "salesbrain.instantly-export"
EXPORT_VERSION = 1

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


class WorkspaceMismatchError(RuntimeError):
    """The key now answers for another workspace than the one this connection mirrors."""


class SyncAlreadyRunning(RuntimeError):
    """Another process is syncing this connection right now."""


# --- results ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Counts:
    """What a sync did to one kind of row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    vanished: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.vanished

    def add(self, other: Counts) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def __str__(self) -> str:
        text = f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"
        return text + (f", {self.vanished} vanished" if self.vanished else "")


@dataclasses.dataclass
class SyncResult:
    """The outcome of one sync (or import): counts per kind of row, requests and time spent."""

    connection_id: str
    workspace_id: str = ""
    workspace_name: str = ""
    campaigns: Counts = dataclasses.field(default_factory=Counts)
    accounts: Counts = dataclasses.field(default_factory=Counts)
    # created = links added, vanished = links removed, updated = links re-homed.
    senders: Counts = dataclasses.field(default_factory=Counts)
    # Per campaign: did its totals (campaign.analytics) change?
    analytics: Counts = dataclasses.field(default_factory=Counts)
    campaign_daily: Counts = dataclasses.field(default_factory=Counts)
    campaign_steps: Counts = dataclasses.field(default_factory=Counts)
    account_daily: Counts = dataclasses.field(default_factory=Counts)
    # Campaigns whose daily and step figures were fetched (the others' totals had not moved).
    figures_fetched: int = 0
    requests: int = 0
    duration: float = 0.0

    ROW_KINDS = (
        "campaigns",
        "accounts",
        "senders",
        "analytics",
        "campaign_daily",
        "campaign_steps",
        "account_daily",
    )

    @property
    def changed(self) -> bool:
        return any(getattr(self, kind).changed for kind in self.ROW_KINDS)

    @property
    def counts(self) -> dict[str, int]:
        """Flat integer counts (what the admin shows after "Sync now")."""
        flat = {}
        for kind in ("campaigns", "accounts"):
            for name, value in dataclasses.asdict(getattr(self, kind)).items():
                flat[f"{kind}_{name}"] = value
        for kind in ("campaign_daily", "campaign_steps", "account_daily"):
            flat[f"{kind}_written"] = getattr(self, kind).created + getattr(self, kind).updated
        flat["requests"] = self.requests
        return flat

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (Celery results, the API)."""
        data = dataclasses.asdict(self)
        data["changed"] = self.changed
        data["duration"] = round(self.duration, 3)
        return data

    def summary(self) -> str:
        lines = [f"Workspace {self.workspace_name or '?'} ({self.workspace_id or '?'})"]
        labels = {
            "campaigns": "campaigns",
            "accounts": "mailboxes",
            "senders": "sender links",
            "analytics": "campaign totals",
            "campaign_daily": "campaign daily rows",
            "campaign_steps": "campaign step rows",
            "account_daily": "mailbox daily rows",
        }
        for kind, label in labels.items():
            lines.append(f"  {label:<20} {getattr(self, kind)}")
        lines.append(f"  figures fetched for {self.figures_fetched} campaign(s)")
        lines.append(f"  {self.requests} API request(s) in {self.duration:.1f} s")
        return "\n".join(lines)


@dataclasses.dataclass
class CampaignFigures:
    """One campaign's daily and per-step analytics, as fetched."""

    instantly_id: str
    daily: list[schemas.CampaignDailyAnalytics]
    steps: list[schemas.CampaignStepAnalytics]


# --- entry points -----------------------------------------------------------------------------


def sync_workspace(
    connection: ProviderConnection,
    *,
    client: InstantlyClient | None = None,
    full: bool = False,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> SyncResult:
    """Mirror the connection's workspace now; returns what changed.

    Callable from anywhere: it opens its own `staff_scope()` for each write batch, and refuses
    to run twice at once for one connection (SyncAlreadyRunning). `full=True` fetches every
    campaign's daily and step figures even when its totals did not move. Instantly errors mark
    the connection ERROR (with a human `last_error` and an alert) and are raised again; a
    successful run clears them and sets `last_synced_at`.
    """
    say = progress or _silent
    result = SyncResult(connection_id=str(connection.pk))
    own_client = client is None
    client = client if client is not None else client_for(connection)
    requests_before = client.request_count
    started = time.monotonic()
    try:
        with _exclusive(connection):
            _sync(connection, client, result, full=full, say=say, concurrency=concurrency)
    except (InstantlyError, WorkspaceMismatchError) as exc:
        record_failure(connection, exc)
        raise
    finally:
        result.requests = client.request_count - requests_before
        result.duration = time.monotonic() - started
        if own_client:
            client.close()
    record_success(connection, synced=True)
    logger.info(
        "synced Instantly workspace %s for connection %s: %s",
        result.workspace_id,
        connection.pk,
        result.counts,
    )
    return result


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
    say = progress or _silent
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
                for chunk in _batches([a.email for a in accounts], ACCOUNT_ANALYTICS_MAX_EMAILS)
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
    say = progress or _silent
    started = time.monotonic()
    result = SyncResult(connection_id=str(connection.pk))
    writer = WorkspaceWriter(connection)
    with _exclusive(connection):
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
        for batch in _batches(figures, FIGURES_BATCH):
            writer.save_campaign_figures(batch, totals, result)
        result.figures_fetched = len(figures)
        rows = _parse_all(schemas.AccountDailyAnalytics, data.get("account_daily_analytics", []))
        for batch in _batches(rows, 5000):
            result.account_daily.add(writer.save_account_daily(batch))
    result.duration = time.monotonic() - started
    return result


# --- the sync itself --------------------------------------------------------------------------


def _sync(
    connection: ProviderConnection,
    client: InstantlyClient,
    result: SyncResult,
    *,
    full: bool,
    say: Progress,
    concurrency: int,
) -> None:
    """Fetch and write, overlapping the two: a thread pool makes the requests (the shared
    limiter paces them) while this thread writes what has arrived."""
    writer = WorkspaceWriter(connection)
    workspace = client.get_current_workspace()
    writer.save_workspace(workspace, result)
    # From now on this client spends the workspace's budget, whatever key it started with.
    client.workspace_key = workspace.id
    say(f"workspace: {result.workspace_name} ({result.workspace_id})")

    # Mailboxes go through their own thread (listing, then their daily figures), campaigns'
    # figures (most of the requests) through the pool; both start before anything is written,
    # so the rate budget is never idle while this thread writes.
    mailbox_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="instantly-mailboxes")
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="instantly-sync")
    try:
        listing = mailbox_thread.submit(list_accounts, client)
        # Page by page: each page's totals, then that page's figures go to the pool at once.
        stored = writer.stored_totals()
        since = figures_since(connection, full=full)
        campaigns, totals, figure_jobs = [], {}, {}
        for page in _batches_of(client.iter_campaigns(), ANALYTICS_IDS_PER_CALL):
            campaigns.extend(page)
            page_totals = fetch_campaign_totals(client, [c.id for c in page])
            totals.update(page_totals)
            for iid in figures_to_fetch(stored, page_totals, full=full):
                if iid not in figure_jobs:  # a page boundary may repeat a campaign
                    figure_jobs[iid] = pool.submit(fetch_campaign_figures, client, iid, since)
        campaigns = _dedupe(campaigns, key=lambda campaign: campaign.id)
        wanted = len(figure_jobs)
        say(f"analytics: totals for {len(totals)} campaign(s), figures to fetch for {wanted}")
        accounts = listing.result()
        del listing  # the future would keep the list alive
        mailbox_jobs = [
            mailbox_thread.submit(client.get_account_daily_analytics, chunk, start_date=since)
            for chunk in _batches([a.email for a in accounts], ACCOUNT_ANALYTICS_MAX_EMAILS)
        ]

        result.accounts = writer.save_accounts(accounts)
        say(f"mailboxes: {len(accounts)} listed: {result.accounts}")
        result.campaigns, result.senders = writer.save_campaigns(campaigns)
        say(f"campaigns: {len(campaigns)} listed: {result.campaigns}")
        writer.record_totals(totals, result.analytics)
        del accounts, campaigns  # written: only ids matter from here on, keep memory low

        jobs = mailbox_jobs + list(figure_jobs.values())
        del mailbox_jobs, figure_jobs  # _results_as_done must hold the only references
        pending: list[CampaignFigures] = []
        for fetched in _results_as_done(jobs):
            if not isinstance(fetched, CampaignFigures):
                result.account_daily.add(writer.save_account_daily(fetched))
                continue
            pending.append(fetched)
            result.figures_fetched += 1
            if len(pending) >= FIGURES_BATCH:
                writer.save_campaign_figures(pending, totals, result)
                pending = []
                say(f"analytics: {result.figures_fetched}/{wanted} campaign(s)")
        if pending:
            writer.save_campaign_figures(pending, totals, result)
    finally:
        # On an error, requests not yet started are dropped; running ones finish first.
        for executor in (pool, mailbox_thread):
            executor.shutdown(wait=True, cancel_futures=True)
    say(f"analytics: {result.figures_fetched} campaign(s); mailbox days: {result.account_daily}")


def _results_as_done(jobs: list[Future]) -> Iterator[Any]:
    """Results in completion order. Each future is dropped once read (a future holds its
    result), so what has been written can be freed while the rest is still being fetched."""
    pending = set(jobs)
    jobs.clear()
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        while done:
            yield done.pop().result()


def figures_to_fetch(
    stored: dict[str, dict[str, Any]],
    totals: dict[str, schemas.CampaignAnalytics],
    *,
    full: bool,
) -> list[str]:
    """Instantly ids of the campaigns whose daily and step figures must be (re)fetched.

    Unchanged totals mean no new activity, hence unchanged figures: skipping those saves two
    requests per campaign per run. Totals are stored in the same transaction as the figures
    (`save_campaign_figures`), so a run that died half-way is caught up by the next. A
    campaign with no totals row never sent: there is nothing to fetch.
    """
    return [iid for iid, row in totals.items() if full or row.raw != stored.get(iid, {})]


def list_accounts(client: InstantlyClient) -> list[schemas.EmailAccount]:
    """Every mailbox once (a page boundary may repeat one; the last copy wins)."""
    return _dedupe(client.iter_accounts(), key=lambda account: account.email.lower())


def list_campaigns(client: InstantlyClient) -> list[schemas.Campaign]:
    """Every campaign once."""
    return _dedupe(client.iter_campaigns(), key=lambda campaign: campaign.id)


def fetch_campaign_totals(
    client: InstantlyClient, campaign_ids: Sequence[str]
) -> dict[str, schemas.CampaignAnalytics]:
    """Totals per campaign id, asked for `ANALYTICS_IDS_PER_CALL` ids per request.

    A campaign that never sent has no row (Instantly answers nothing for it)."""
    totals: dict[str, schemas.CampaignAnalytics] = {}
    for batch in _batches(list(campaign_ids), ANALYTICS_IDS_PER_CALL):
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


def figures_since(connection: ProviderConnection, *, full: bool) -> dt.date | None:
    """First day whose daily figures a sync asks for: all of them on a first or full sync,
    else from shortly before the last successful sync (older days no longer change; the
    overlap covers time zones and late events)."""
    if full or connection.last_synced_at is None:
        return None
    return (connection.last_synced_at - DAILY_FIGURES_OVERLAP).date()


# --- writing ----------------------------------------------------------------------------------


class WorkspaceWriter:
    """Writes one workspace's objects for one connection, comparing before writing.

    Remembers, between steps, which rows exist for the connection (mailbox and campaign ids by
    their Instantly keys), so later steps link to them without querying again.
    """

    def __init__(self, connection: ProviderConnection, now: dt.datetime | None = None) -> None:
        self.connection = connection
        self.now = now or timezone.now()
        # Mailboxes of the connection: lower-cased email -> (pk, organization_id).
        self.mailboxes: dict[str, tuple[int, Any]] = {}
        # Campaigns listed in this run: Instantly id -> Campaign (pk, organization, analytics).
        self.campaigns: dict[str, Campaign] = {}

    @property
    def dedicated_organization_id(self):
        """The organization every row belongs to, for a customer's own workspace; else None."""
        return None if self.connection.is_shared else self.connection.organization_id

    # --- workspace -----------------------------------------------------------------------

    def save_workspace(self, workspace: schemas.Workspace, result: SyncResult) -> None:
        """Record the workspace id and name; refuse a key that now opens another workspace
        while rows of the old one exist (they would all be marked vanished)."""
        connection = self.connection
        name = (workspace.name or "")[:200]
        result.workspace_id, result.workspace_name = workspace.id, name
        with _writing():
            if connection.workspace_id and connection.workspace_id != workspace.id:
                has_rows = (
                    Campaign.objects.unscoped().filter(connection=connection).exists()
                    or EmailAccount.objects.unscoped().filter(connection=connection).exists()
                )
                if has_rows:
                    raise WorkspaceMismatchError(
                        f"The API key of {connection.name!r} opens workspace {workspace.id} "
                        f"({name or 'unnamed'}), but this connection mirrors workspace "
                        f"{connection.workspace_id}. Use a key of that workspace, or create a "
                        "new connection for the other one."
                    )
            if (connection.workspace_id, connection.workspace_name) != (workspace.id, name):
                connection.workspace_id, connection.workspace_name = workspace.id, name
                ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
                    workspace_id=workspace.id, workspace_name=name, updated_at=self.now
                )

    # --- mailboxes -----------------------------------------------------------------------

    def save_accounts(self, accounts: Sequence[schemas.EmailAccount]) -> Counts:
        """Upsert every listed mailbox; mark the connection's unlisted ones vanished."""
        counts = Counts()
        with _writing():
            existing = {
                row.email.lower(): row
                for row in EmailAccount.objects.unscoped().filter(connection=self.connection)
            }
            to_create, to_update, changed_fields = [], [], set()
            for account in accounts:
                key = account.email.lower()
                row = existing.get(key)
                values = self._account_values(account, row)
                if row is None:
                    row = EmailAccount(
                        connection=self.connection,
                        email=account.email,
                        synced_at=self.now,
                        **{"organization_id": self.dedicated_organization_id, **values},
                    )
                    existing[key] = row
                    to_create.append(row)
                    counts.created += 1
                elif _assign_changes(row, values, changed_fields):
                    to_update.append(row)
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            _insert_rows(EmailAccount, to_create)
            _bulk_update(EmailAccount, to_update, changed_fields, self.now)
            listed = {account.email.lower() for account in accounts}
            counts.vanished = _mark_vanished(EmailAccount, existing, listed, self.now)
            self.mailboxes = {key: (row.pk, row.organization_id) for key, row in existing.items()}
        return counts

    def _account_values(
        self, account: schemas.EmailAccount, row: EmailAccount | None
    ) -> dict[str, Any]:
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
            "warmup": raw.get("warmup") if isinstance(raw.get("warmup"), dict) else {},
            "tracking_domain": (account.tracking_domain_name or "")[:255],
            "last_used_at": _aware(account.timestamp_last_used),
            "raw": raw,
            "upstream_created_at": _aware(account.timestamp_created),
            "upstream_updated_at": _aware(account.timestamp_updated),
            "vanished_at": None,
        }
        # The last error stays until another replaces it: it explains the mailbox's history.
        error = mailbox_error_text(raw.get("status_message"))
        if error and (row is None or row.last_error != error):
            values["last_error"] = error[:5000]
            values["last_error_at"] = _aware(account.timestamp_updated) or self.now
        if self.dedicated_organization_id is not None:
            values["organization_id"] = self.dedicated_organization_id
        return values

    # --- campaigns -----------------------------------------------------------------------

    def save_campaigns(self, campaigns: Sequence[schemas.Campaign]) -> tuple[Counts, Counts]:
        """Upsert every listed campaign and its sender links; mark unlisted ones vanished.

        Returns (campaign counts, sender link counts). The organization of an existing campaign
        is never changed here: staff assignments survive every sync.
        """
        counts = Counts()
        with _writing():
            existing = {
                row.instantly_id: row
                for row in Campaign.objects.unscoped().filter(connection=self.connection)
            }
            to_create, to_update, changed_fields = [], [], set()
            for campaign in campaigns:
                row = existing.get(campaign.id)
                values = self._campaign_values(campaign, row)
                if row is None:
                    row = Campaign(
                        connection=self.connection,
                        instantly_id=campaign.id,
                        organization_id=self.dedicated_organization_id,
                        synced_at=self.now,
                        **values,
                    )
                    existing[campaign.id] = row
                    to_create.append(row)
                    counts.created += 1
                elif _assign_changes(row, values, changed_fields):
                    to_update.append(row)
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            _insert_rows(Campaign, to_create)
            _bulk_update(Campaign, to_update, changed_fields, self.now)
            listed = {campaign.id for campaign in campaigns}
            counts.vanished = _mark_vanished(Campaign, existing, listed, self.now)
            self.campaigns = {iid: existing[iid] for iid in listed}
            self._rehome_dedicated_campaigns()
            senders = self._save_senders(campaigns)
        # Later steps need only these columns: dropping the rest frees the payloads.
        self.campaigns = {
            iid: Campaign(
                pk=row.pk,
                connection_id=row.connection_id,
                instantly_id=iid,
                organization_id=row.organization_id,
                analytics=row.analytics,
            )
            for iid, row in self.campaigns.items()
        }
        return counts, senders

    def _campaign_values(self, campaign: schemas.Campaign, row: Campaign | None) -> dict[str, Any]:
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
            "raw": raw,
            "is_placeholder": False,
            "upstream_created_at": _aware(campaign.timestamp_created),
            "upstream_updated_at": _aware(campaign.timestamp_updated),
            "vanished_at": None,
        }
        if status == CampaignStatus.COMPLETED and (row is None or row.completed_at is None):
            values["completed_at"] = _aware(campaign.timestamp_updated) or self.now
        return values

    def _rehome_dedicated_campaigns(self) -> None:
        """A dedicated workspace's campaigns belong to its organization, with every dependent
        row (e.g. placeholders a webhook created before the connection had one)."""
        org_id = self.dedicated_organization_id
        if org_id is None:
            return
        from campaigns.assignment import assign_campaign

        for campaign in self.campaigns.values():
            if campaign.organization_id != org_id:
                assign_campaign(campaign, self.connection.organization)

    def _save_senders(self, campaigns: Sequence[schemas.Campaign]) -> Counts:
        """Link each listed campaign to the mailboxes in its `email_list`; the link's
        organization follows the campaign. Addresses with no mailbox here are skipped."""
        counts = Counts()
        wanted: dict[tuple[Any, int], Any] = {}
        for campaign in campaigns:
            row = self.campaigns[campaign.id]
            for email in campaign.email_list or []:
                mailbox = self.mailboxes.get(str(email).lower())
                if mailbox is not None:
                    wanted[(row.pk, mailbox[0])] = row.organization_id
        existing = {
            (link.campaign_id, link.email_account_id): link
            for link in CampaignSender.objects.unscoped().filter(
                campaign_id__in=[row.pk for row in self.campaigns.values()]
            )
        }
        to_create, to_update = [], []
        for (campaign_pk, mailbox_pk), org_id in wanted.items():
            link = existing.get((campaign_pk, mailbox_pk))
            if link is None:
                to_create.append(
                    CampaignSender(
                        campaign_id=campaign_pk, email_account_id=mailbox_pk, organization_id=org_id
                    )
                )
            elif link.organization_id != org_id:
                link.organization_id = org_id
                to_update.append(link)
            else:
                counts.unchanged += 1
        stale = [link.pk for key, link in existing.items() if key not in wanted]
        CampaignSender.objects.unscoped().bulk_create(to_create, batch_size=BULK_BATCH)
        CampaignSender.objects.unscoped().bulk_update(to_update, ["organization"], batch_size=500)
        if stale:
            CampaignSender.objects.unscoped().filter(pk__in=stale).delete()
        counts.created, counts.updated, counts.vanished = len(to_create), len(to_update), len(stale)
        return counts

    # --- analytics -----------------------------------------------------------------------

    def stored_totals(self) -> dict[str, dict[str, Any]]:
        """The analytics totals stored per campaign of the connection (Instantly id -> JSON)."""
        with staff_scope():
            return dict(
                Campaign.objects.unscoped()
                .filter(connection=self.connection)
                .values_list("instantly_id", "analytics")
            )

    def record_totals(self, totals: dict[str, schemas.CampaignAnalytics], counts: Counts) -> None:
        """Count the listed campaigns whose totals moved, and clear the totals of those that
        have none any more (no totals row = never sent). Moved totals are written with their
        figures (`save_campaign_figures`)."""
        cleared = []
        for iid, campaign in self.campaigns.items():
            row = totals.get(iid)
            new = row.raw if row is not None else {}
            if new == campaign.analytics:
                counts.unchanged += 1
                continue
            counts.updated += 1
            if row is None:
                campaign.analytics = {}
                cleared.append(campaign)
        if cleared:
            with _writing():
                _bulk_update(Campaign, cleared, {"analytics"}, self.now)

    def save_campaign_figures(
        self,
        batch: Sequence[CampaignFigures],
        totals: dict[str, schemas.CampaignAnalytics],
        result: SyncResult,
    ) -> None:
        """Write a batch of campaigns' daily and step rows, then their totals, in one
        transaction. Only the columns Instantly reports are set; the others (bounced,
        interested, ...) are the webhooks' to keep."""
        campaigns = [
            self.campaigns[f.instantly_id] for f in batch if f.instantly_id in self.campaigns
        ]
        campaign_pks = [c.pk for c in campaigns]
        with _writing():
            daily_wanted: dict[tuple[Any, dt.date], dict[str, Any]] = {}
            step_wanted: dict[tuple[Any, int, int], dict[str, Any]] = {}
            for figures in batch:
                campaign = self.campaigns.get(figures.instantly_id)
                if campaign is None:
                    continue
                for day in figures.daily:
                    if day.date is not None:
                        values = _figures(day, CAMPAIGN_DAILY_FIELDS)
                        values["organization_id"] = campaign.organization_id
                        daily_wanted[(campaign.pk, day.date)] = values
                for step in figures.steps:
                    key = _step_key(step)
                    if key is not None:
                        values = _figures(step, CAMPAIGN_STEP_FIELDS)
                        values["raw"] = step.raw
                        values["organization_id"] = campaign.organization_id
                        step_wanted[(campaign.pk, *key)] = values
            result.campaign_daily.add(
                _upsert_rows(
                    CampaignDailyStat,
                    CampaignDailyStat.objects.unscoped().filter(campaign_id__in=campaign_pks),
                    ("campaign_id", "date"),
                    daily_wanted,
                )
            )
            result.campaign_steps.add(
                _upsert_rows(
                    CampaignStepStat,
                    CampaignStepStat.objects.unscoped().filter(campaign_id__in=campaign_pks),
                    ("campaign_id", "step", "variant"),
                    step_wanted,
                )
            )
            moved = []
            for campaign in campaigns:
                row = totals.get(campaign.instantly_id)
                new = row.raw if row is not None else {}
                if campaign.analytics != new:
                    campaign.analytics = new
                    moved.append(campaign)
            _bulk_update(Campaign, moved, {"analytics"}, self.now)

    def save_account_daily(self, rows: Sequence[schemas.AccountDailyAnalytics]) -> Counts:
        """Write mailbox daily rows (one GET /accounts/analytics/daily answer)."""
        wanted: dict[tuple[int, dt.date], dict[str, Any]] = {}
        for row in rows:
            mailbox = self.mailboxes.get((row.email_account or "").lower())
            if mailbox is None or row.date is None:
                continue
            values = _figures(row, ACCOUNT_DAILY_FIELDS)
            values["raw"] = row.raw
            values["organization_id"] = mailbox[1]
            wanted[(mailbox[0], row.date)] = values
        if not wanted:
            return Counts()
        with _writing():
            stored = EmailAccountDailyStat.objects.unscoped().filter(
                email_account_id__in={key[0] for key in wanted},
                date__in={key[1] for key in wanted},
            )
            return _upsert_rows(EmailAccountDailyStat, stored, ("email_account_id", "date"), wanted)


# --- helpers ----------------------------------------------------------------------------------


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


def _mark_vanished(model, existing: dict, listed: set, now: dt.datetime) -> int:
    """Stamp `vanished_at` on rows no longer listed upstream (kept, never deleted)."""
    gone = [
        row.pk for key, row in existing.items() if key not in listed and row.vanished_at is None
    ]
    if not gone:
        return 0
    return model.objects.unscoped().filter(pk__in=gone).update(vanished_at=now, updated_at=now)


def _assign_changes(row: Any, values: dict[str, Any], changed_fields: set[str]) -> bool:
    """Set on `row` the values that differ; record their names. True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed_fields.add(name)
            changed = True
    return changed


def _bulk_update(model, rows: Sequence[Any], fields: set[str], now: dt.datetime) -> None:
    """Write `fields` of changed model instances, stamping `updated_at`/`synced_at` (which no
    bulk write sets by itself) so staff can see when a sync last changed a row."""
    if not rows:
        return
    names = set(fields)
    for stamp in ("updated_at", "synced_at"):
        if any(f.name == stamp for f in model._meta.concrete_fields):
            names.add(stamp)
            for row in rows:
                setattr(row, stamp, now)
    attnames = [model._meta.get_field(name).attname for name in sorted(names)]
    _update_rows(
        model, [{"id": row.pk, **{a: getattr(row, a) for a in attnames}} for row in rows], attnames
    )


def _upsert_rows(
    model, stored: QuerySet, key_fields: tuple[str, ...], wanted: dict[tuple, dict[str, Any]]
) -> Counts:
    """Create the wanted rows that are not stored, update those that differ, count the rest.

    `wanted` maps a key (values of `key_fields`) to column values. Rows are handled as plain
    dicts, never model instances: tens of thousands of daily rows stay cheap to compare.
    """
    counts = Counts()
    names = sorted({name for values in wanted.values() for name in values})
    rows = {
        tuple(row[name] for name in key_fields): row
        for row in stored.values("id", *key_fields, *names)
    }
    to_create, to_update, changed_fields = [], [], set()
    for key, values in wanted.items():
        row = rows.get(key)
        if row is None:
            to_create.append({**dict(zip(key_fields, key, strict=True)), **values})
            counts.created += 1
            continue
        changed = [name for name, value in values.items() if row[name] != value]
        if not changed:
            counts.unchanged += 1
            continue
        changed_fields.update(changed)
        # Every compared column, so the update writes each row's own value for all of them.
        to_update.append({"id": row["id"], **{name: row[name] for name in names}, **values})
        counts.updated += 1
    _insert_rows(model, to_create)
    _update_rows(model, to_update, sorted(changed_fields))
    return counts


# --- bulk writes through one JSON parameter ---------------------------------------------------
#
# Why not bulk_create/bulk_update: on PostgreSQL, Django 5.2's bulk_create sends each column as
# an array, and psycopg's client-side binding escapes every JSON value inside an array with a
# Python regex (seconds for the raw payloads of 5,000 mailboxes); bulk_update builds one
# CASE WHEN per row and column (seconds for 1,000 campaigns). Here each batch is a single jsonb
# parameter, escaped once in C, that `jsonb_to_recordset` unpacks in the server. Only model
# metadata (quoted names and types) is interpolated into the SQL.


def _insert_rows(model, rows: Sequence[Any]) -> None:
    """INSERT rows given as model instances (a generated primary key is set on them after,
    RETURNING in row order as bulk_create assumes too) or as dicts by attribute name (missing
    columns take the field's default)."""
    if not rows:
        return
    db = connections[router.db_for_write(model)]
    auto_pk = model._meta.pk if isinstance(model._meta.pk, models.AutoField) else None
    fields = [f for f in model._meta.concrete_fields if f is not auto_pk and not f.generated]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    returning = f" RETURNING {db.ops.quote_name(auto_pk.column)}" if auto_pk else ""
    sql = (
        f"INSERT INTO {db.ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM {_recordset(db, fields)}{returning}"
    )
    for batch in _batches(rows, BULK_BATCH):
        records = [_record(fields, row) for row in batch]
        with db.cursor() as cursor:
            cursor.execute(sql, [json.dumps(records, default=_json_default)])
            pks = cursor.fetchall() if auto_pk else ()
        for row, (pk,) in zip(batch, pks, strict=False):
            if isinstance(row, models.Model):
                row.pk = pk
        for row in batch:
            if isinstance(row, models.Model):
                row._state.adding, row._state.db = False, db.alias


def _update_rows(model, rows: Sequence[dict[str, Any]], attnames: Sequence[str]) -> None:
    """UPDATE the given columns of rows given as dicts with "id" and those attribute names."""
    if not rows or not attnames:
        return
    db = connections[router.db_for_write(model)]
    pk = model._meta.pk
    fields = [pk, *(f for f in model._meta.concrete_fields if f.attname in attnames)]
    quote = db.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = r.{quote(f.column)}" for f in fields[1:])
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "  # noqa: S608
        f"FROM {_recordset(db, fields)} WHERE t.{quote(pk.column)} = r.{quote(pk.column)}"
    )
    for batch in _batches(rows, BULK_BATCH):
        records = [{f.column: row[f.attname] for f in fields} for row in batch]
        with db.cursor() as cursor:
            cursor.execute(sql, [json.dumps(records, default=_json_default)])


def _recordset(db, fields) -> str:
    shape = ", ".join(
        f"{db.ops.quote_name(f.column)} {f.db_type(db).split('(')[0]}" for f in fields
    )
    return f"jsonb_to_recordset(%s::jsonb) AS r({shape})"


def _record(fields, row: Any) -> dict[str, Any]:
    if isinstance(row, models.Model):
        return {f.column: f.pre_save(row, add=True) for f in fields}
    record = {}
    for f in fields:
        if f.attname in row:
            record[f.column] = row[f.attname]
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            record[f.column] = timezone.now()
        else:
            record[f.column] = f.get_default()
    return record


def _json_default(value: Any) -> Any:
    """JSON for the column values json cannot write itself (full precision, unlike Django's
    encoder, which cuts datetimes to milliseconds)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _figures(row: schemas.InstantlyModel, mapping: dict[str, str]) -> dict[str, int]:
    """Our counters from one analytics row; a figure Instantly did not send is left out."""
    values = {}
    for column, field in mapping.items():
        value = getattr(row, field, None)
        if value is not None:
            values[column] = max(0, int(value))
    return values


def _step_key(row: schemas.CampaignStepAnalytics) -> tuple[int, int] | None:
    """1-based (step, variant) of a step analytics row; None for a row without a step."""
    step = codes.parse_code(row.raw.get("step"))
    variant = codes.parse_code(row.raw.get("variant"))
    if step is None:
        return None
    offset = 1 - STEP_ANALYTICS_BASE
    step, variant = step + offset, (STEP_ANALYTICS_BASE if variant is None else variant) + offset
    if step < 1 or variant < 1:
        return None
    return step, variant


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


def _parse_all(schema: type[schemas.InstantlyModel], items: Iterable[Any]) -> list[Any]:
    return [schema.model_validate(item) for item in items]


def _dedupe(items: Iterable[Any], key: Callable[[Any], str]) -> list[Any]:
    """Listed objects, each once (a page boundary can repeat one); the last copy wins."""
    return list({key(item): item for item in items}.values())


def _batches_of(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` items from an iterator, as they come (the last one may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _silent(message: str) -> None:
    """Progress goes nowhere unless a caller (the command) asks for it."""


@contextmanager
def _writing() -> Iterator[None]:
    """A staff-scoped transaction for one batch of sync writes, whose commit does not wait for
    the WAL flush (synchronous_commit off, this transaction only): a crash can lose at most the
    last batches, which the next sync writes again, and dozens of commits per sync stop
    costing seconds. Inside an outer transaction the setting lasts until that one ends."""
    with staff_scope():
        with db_connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _lock_key(connection: ProviderConnection) -> int:
    """The connection's advisory lock number (a stable 32-bit hash of its id)."""
    return zlib.crc32(f"instantly-sync:{connection.pk}".encode())


@contextmanager
def _exclusive(connection: ProviderConnection) -> Iterator[None]:
    """One sync per connection at a time, across processes: a PostgreSQL advisory lock held
    by this database session (released in `finally`, or by PostgreSQL if the session dies)."""
    key = _lock_key(connection)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            raise SyncAlreadyRunning(f"a sync of {connection.name!r} is already running")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
