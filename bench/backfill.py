"""Benchmark: history backfill of 50,000 Unibox emails from the Instantly sandbox.

    .venv/bin/python bench/backfill.py [--emails N] [--repeat N]

The Unibox (GET /api/v2/emails) allows about 20 requests a minute and 100 emails a page, so
50,000 emails take at least 500 requests (501: the page after a full last one is empty) and
25 minutes. Waiting 25 real minutes measures nothing of ours, so each run is measured twice:

1. baseline, same run: the pages fetched and parsed only (HTTP + JSON + models, no database),
   the limit lifted: what the client alone costs;
2. backfill, the limit lifted: fetch and write (threads, messages, categories, checkpoint per
   page) through the real client and database: our own cost;
3. backfill under the 20/min limit on a virtual clock: the sandbox answers 429 past 20
   requests a minute and our limiter paces us, but a wait advances the clock instead of
   sleeping; real work time is counted as it happens. Its total is the backfill time for
   50,000 emails at 20 requests a minute, computed, beside the floor the limit sets.

The sandbox runs in this process (a thread) over real HTTP; the database is a throwaway one
(created beside DATABASE_URL's, migrated, dropped). Every figure is printed with the load
average, as the machine is shared: repeat (--repeat) when it is high.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_full import ThrowawayDatabase  # noqa: E402 - also sets Django up

EMAILS_PER_MINUTE = 20
PAGE = 100


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


class VirtualClock:
    """Real time plus every wait taken (a wait moves the clock instead of sleeping)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.waited = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.monotonic() - self.start + self.waited

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waited += max(0.0, seconds)


def build_workspace(emails: int):
    from instantly.sandbox import SandboxWorkspace

    # A sandbox campaign of 1,000 lead stories lists a few hundred to 900 Unibox emails; each
    # is capped at its share of `emails`, and campaigns are added (4 tries at most) until the
    # total is within 0.5 % of it. The total is printed: the figures are for what was built.
    campaigns = max(1, emails // 650)
    for _attempt in range(4):
        workspace = SandboxWorkspace(
            seed=3,
            campaigns=campaigns,
            accounts=50,
            leads_per_campaign=1000,
            emails_per_campaign=-(-emails // campaigns),
            now=datetime.now(UTC),
        ).materialize()
        listed = len(workspace.emails())
        if listed >= emails * 0.995:
            break
        # Some campaigns list fewer: more campaigns, the same cap per campaign's share.
        campaigns = -(-campaigns * emails // listed)
    return workspace


def fetch_only(client) -> tuple[int, int, float]:
    from instantly.history_api import emails_page

    started = time.monotonic()
    cursor, pages, count = "", 0, 0
    while True:
        page = emails_page(client, cursor)
        pages += 1
        count += len(page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return pages, count, time.monotonic() - started


def fresh_connection(name: str):
    from accounts.tenancy import staff_scope
    from instantly.models import ProviderConnection
    from instantly.sandbox import DEFAULT_API_KEY

    with staff_scope():
        ProviderConnection.objects.unscoped().filter(is_shared=True).delete()
        connection = ProviderConnection(name=name, is_shared=True)
        connection.api_key = DEFAULT_API_KEY
        connection.save()
    return connection


def reset_history():
    """Forget the messages, threads and backfill state of the previous measurement."""
    from django.db import connection as db

    from accounts.db import as_owner

    with as_owner("default"), db.cursor() as cursor:
        cursor.execute(
            "TRUNCATE messaging_message, messaging_thread, instantly_historybackfill CASCADE"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--limited-only", action="store_true", help="skip the runs without the limit (1 and 2)"
    )
    args = parser.parse_args()

    from instantly.connections import client_for
    from instantly.history_api import EMAILS_LIMIT
    from instantly.limiter import LocalRateLimiter, RateLimit
    from instantly.sandbox import SandboxApp, SandboxServer
    from instantly.sync.backfill import backfill_history
    from instantly.sync.run import sync_workspace

    print(f"Building the sandbox: {args.emails:,} Unibox emails ... ({load()})")
    started = time.monotonic()
    workspace = build_workspace(args.emails)
    total = len(workspace.emails())
    print(
        f"  {total:,} emails, {len(workspace.leads()):,} leads in {time.monotonic() - started:.1f} s"
    )
    floor_requests = total // PAGE + 1
    # A sliding window of 20 a minute: the first 20 go at once, every later one 3 s apart.
    floor = max(0, floor_requests - EMAILS_PER_MINUTE) * 60 / EMAILS_PER_MINUTE
    print(
        f"Floor at {EMAILS_PER_MINUTE} requests/min and {PAGE} emails/page: "
        f"{floor_requests} requests: {floor / 60:.2f} min after the first burst of "
        f"{EMAILS_PER_MINUTE} ({floor_requests / EMAILS_PER_MINUTE:.2f} min as requests / 20)"
    )

    with ThrowawayDatabase() as db_name:
        print(f"Throwaway database {db_name}")
        unlimited = SandboxApp(workspace)
        with SandboxServer(unlimited) as server:
            connection = fresh_connection("Backfill benchmark")
            with client_for(connection, base_url=server.base_url) as client:
                sync_workspace(connection, client=client, history=False)  # campaigns first
            for run in range(1, 0 if args.limited_only else args.repeat + 1):
                print(f"\nRun {run}")
                with client_for(connection, base_url=server.base_url) as client:
                    pages, count, seconds = fetch_only(client)
                print(
                    f"  baseline (fetch + parse only, no limit): {pages} pages, {count:,} "
                    f"emails in {seconds:.1f} s = {count / seconds:,.0f} emails/s ({load()})"
                )
                reset_history()
                unlimited.reset_stats()
                no_wait = LocalRateLimiter([RateLimit(10_000, 1.0)])
                started = time.monotonic()
                with client_for(connection, base_url=server.base_url) as client:
                    result = backfill_history(connection, client, leads=False, limiter=no_wait)
                own = time.monotonic() - started
                print(
                    f"  backfill (fetch + write, no limit): {result.email_pages} pages, "
                    f"{result.emails_written:,} emails written in {own:.1f} s = "
                    f"{result.emails_written / own:,.0f} emails/s, "
                    f"{own / result.email_pages * 1000:.0f} ms/page ({load()})"
                )

        # Under the limit, on a virtual clock shared by the sandbox and our limiter.
        clock = VirtualClock()
        limited = SandboxApp(workspace, clock=clock, emails_per_minute=EMAILS_PER_MINUTE)
        limiter = LocalRateLimiter([EMAILS_LIMIT], clock=clock, sleeper=clock.sleep)
        reset_history()
        with SandboxServer(limited) as server:
            with client_for(connection, base_url=server.base_url, sleeper=clock.sleep) as client:
                started = time.monotonic()
                result = backfill_history(connection, client, leads=False, limiter=limiter)
                real = time.monotonic() - started
        stats = limited.stats()
        print(
            f"\nUnder {EMAILS_PER_MINUTE}/min (virtual clock; our limiter "
            f"{EMAILS_LIMIT.limit}/{EMAILS_LIMIT.period:g}s): {result.email_pages} pages, "
            f"{stats['by_path'].get('GET /api/v2/emails', 0)} requests, "
            f"{stats['by_status'].get('429', 0)} answered 429 ({load()})"
        )
        print(
            f"  time {clock() / 60:.1f} min = {real:.0f} s of our own work + "
            f"{clock.waited:.0f} s waiting for the limit; floor {floor / 60:.1f} min "
            f"(+{(clock() - floor) / floor * 100:.1f} %)"
        )
        print(
            "  (a first backfill spread over periodic syncs reads "
            "INSTANTLY_HISTORY_PAGES_PER_SYNC pages each; `instantly_sync --history` reads "
            "all of it in one go)"
        )


if __name__ == "__main__":
    main()
