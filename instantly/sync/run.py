"""The sync's run: `sync_workspace(connection)`, one connection at a time.

Fetching and writing overlap: a thread pool makes the requests (the shared rate limiter paces
every thread under Instantly's budget) while the calling thread writes what has arrived, each
batch in its own short transaction. A PostgreSQL advisory lock keeps two processes from syncing
one connection at once.
"""

from __future__ import annotations

import contextvars
import logging
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.client import ACCOUNT_ANALYTICS_MAX_EMAILS, InstantlyClient
from instantly.connections import client_for, record_failure, record_success
from instantly.errors import InstantlyError
from instantly.models import ProviderConnection, SyncRun
from instantly.subscriptions import check_subscription
from salesbrain import metrics
from salesbrain.bulk import chunks
from salesbrain.logs import log_context

from .backfill import BackfillResult, backfill_history
from .fetch import (
    ANALYTICS_IDS_PER_CALL,
    CampaignFigures,
    account_history_start,
    account_windows,
    created_day,
    dedupe,
    fetch_campaign_figures,
    fetch_campaign_totals,
    figures_since,
    figures_to_fetch,
    list_accounts,
)
from .results import Progress, SyncResult, silent
from .write import FIGURES_BATCH, WorkspaceMismatchError, WorkspaceWriter

logger = logging.getLogger(__name__)

# Threads fetching per-campaign figures. Against the real API (a few hundred ms per call) they,
# not the rate limit, bound the speed. Our limiter counts a request when it leaves, Instantly
# when it arrives: in any second Instantly can see at most our 90 plus those already in flight,
# here 8 + 2 (the mailbox thread and the writing thread), so never more than its 100.
DEFAULT_CONCURRENCY = 8


class SyncAlreadyRunning(RuntimeError):
    """Another process is syncing this connection right now."""


def sync_workspace(
    connection: ProviderConnection,
    *,
    client: InstantlyClient | None = None,
    full: bool = False,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    history: bool | None = None,
) -> SyncResult:
    """Mirror the connection's workspace now; returns what changed.

    Callable from anywhere: it opens its own `staff_scope()` for each write batch, and refuses
    to run twice at once for one connection (SyncAlreadyRunning). `full=True` fetches every
    campaign's daily and step figures even when its totals did not move. Instantly errors mark
    the connection ERROR (with a human `last_error` and an alert) and are raised again; a
    successful run clears them and sets `last_synced_at`.

    Then the history backfill (`backfill`): with `history` None, what is new in the Unibox
    (at most `INSTANTLY_HISTORY_PAGES_PER_SYNC` pages, the rest next time) and the lead lists
    on a first run, its errors logged without failing the sync; `history=True` (the command's
    `--history`) reads all of it, leads included, and fails on its errors; False skips it.
    """
    say = progress or silent
    result = SyncResult(connection_id=str(connection.pk))
    own_client = client is None
    client = client if client is not None else client_for(connection)
    requests_before = client.request_count
    throttled_before = client.answers["429"]
    started = time.monotonic()
    run: SyncRun | None = None
    error = ""
    try:
        with exclusive(connection):
            run = _start_run(connection, full=full)
            with log_context(sync_id=run.pk, connection_id=str(connection.pk)):
                _sync(connection, client, result, full=full, say=say, concurrency=concurrency)
                _check_subscription(connection, client)
                if history is not False:
                    result.history = _backfill(connection, client, history=history, say=say)
    except (InstantlyError, WorkspaceMismatchError) as exc:
        error = record_failure(connection, exc)
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        result.requests = client.request_count - requests_before
        result.duration = time.monotonic() - started
        if own_client:
            client.close()
        if run is not None:
            _finish_run(run, connection, result, client.answers["429"] - throttled_before, error)
    record_success(connection, synced=True)
    with log_context(sync_id=run.pk, connection_id=str(connection.pk)):
        logger.info(
            "synced Instantly workspace %s for connection %s: %s",
            result.workspace_id,
            connection.pk,
            result.counts,
        )
    return result


def _start_run(connection: ProviderConnection, *, full: bool) -> SyncRun:
    with staff_scope():
        return SyncRun.objects.unscoped().create(
            organization_id=connection.organization_id, connection=connection, full=full
        )


def _finish_run(
    run: SyncRun, connection: ProviderConnection, result: SyncResult, throttled: int, error: str
) -> None:
    """Write down how the run ended, and count it (`salesbrain_sync_duration_seconds`)."""
    outcome = SyncRun.Outcome.FAILED if error else SyncRun.Outcome.OK
    with staff_scope():
        SyncRun.objects.unscoped().filter(pk=run.pk).update(
            finished_at=timezone.now(),
            outcome=outcome,
            requests=result.requests,
            throttled=throttled,
            duration_seconds=round(result.duration, 3),
            counts=result.counts,
            error=error[:2000],
        )
    metrics.SYNC_SECONDS.labels(connection.name).observe(result.duration)
    metrics.SYNCS.labels(connection.name, outcome).inc()


def _check_subscription(connection: ProviderConnection, client: InstantlyClient) -> None:
    """Is Instantly still delivering? A failed check is logged, never fails the sync."""
    try:
        check_subscription(connection, client=client)
    except InstantlyError as exc:
        logger.warning("could not check the webhook subscription of %s: %s", connection.name, exc)


def _backfill(
    connection: ProviderConnection, client: InstantlyClient, *, history: bool | None, say
) -> BackfillResult | None:
    """The history backfill after the mirror (it needs the campaigns the mirror wrote)."""
    if history:
        return backfill_history(connection, client, leads=True, progress=say)
    try:
        return backfill_history(
            connection,
            client,
            max_pages=settings.INSTANTLY_HISTORY_PAGES_PER_SYNC,
            progress=say,
        )
    except InstantlyError as exc:
        logger.warning("history backfill of %s stopped: %s", connection.name, exc)
        return None


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
        listing = _submit(mailbox_thread, list_accounts, client)
        # Page by page: each page's totals, then that page's figures go to the pool at once.
        stored = writer.stored_totals()
        since = figures_since(connection, full=full)
        campaigns, totals, figure_jobs = [], {}, {}
        for page in chunks(client.iter_campaigns(), ANALYTICS_IDS_PER_CALL):
            campaigns.extend(page)
            created = {c.id: created_day(c) for c in page}
            page_totals = fetch_campaign_totals(client, [c.id for c in page])
            totals.update(page_totals)
            for iid in figures_to_fetch(stored, page_totals, full=full):
                if iid not in figure_jobs:  # a page boundary may repeat a campaign
                    figure_jobs[iid] = _submit(
                        pool, fetch_campaign_figures, client, iid, since, created.get(iid)
                    )
        campaigns = dedupe(campaigns, key=lambda campaign: campaign.id)
        wanted = len(figure_jobs)
        say(f"analytics: totals for {len(totals)} campaign(s), figures to fetch for {wanted}")
        accounts = listing.result()
        del listing  # the future would keep the list alive
        # Mailbox figures: at most 31 days per call, so history comes window by window.
        today = timezone.now().date()
        mailbox_jobs = [
            _submit(
                mailbox_thread,
                client.get_account_daily_analytics,
                [a.email for a in chunk],
                start_date=start,
                end_date=end,
            )
            for chunk in chunks(accounts, ACCOUNT_ANALYTICS_MAX_EMAILS)
            for start, end in account_windows(account_history_start(chunk, since), today)
        ]

        result.lead_labels = writer.save_lead_labels(list(client.iter_lead_labels()))
        say(f"custom lead labels: {result.lead_labels}")
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


def _submit(executor: ThreadPoolExecutor, fn, *args, **kwargs) -> Future:
    """Run `fn` in a pool thread under a copy of this thread's log context, so the fetchers'
    lines carry the sync's id too."""
    return executor.submit(contextvars.copy_context().run, fn, *args, **kwargs)


def _results_as_done(jobs: list[Future]) -> Iterator[Any]:
    """Results in completion order. Each future is dropped once read (a future holds its
    result), so what has been written can be freed while the rest is still being fetched."""
    pending = set(jobs)
    jobs.clear()
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        while done:
            yield done.pop().result()


def lock_key(connection: ProviderConnection) -> int:
    """The connection's advisory lock number (a stable 32-bit hash of its id)."""
    return zlib.crc32(f"instantly-sync:{connection.pk}".encode())


@contextmanager
def exclusive(connection: ProviderConnection) -> Iterator[None]:
    """One sync (or import) per connection at a time, across processes: a PostgreSQL advisory
    lock held by this database session (released in `finally`, or by PostgreSQL if the session
    dies)."""
    key = lock_key(connection)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            raise SyncAlreadyRunning(f"a sync of {connection.name!r} is already running")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
