"""Benchmark: full sync of a 1,000-campaign, 5,000-mailbox workspace from the Instantly sandbox.

    .venv/bin/python bench/sync_full.py [--campaigns N] [--accounts N] [--tracemalloc]

The sandbox runs in this process (a background thread) with Instantly's rate limits; the sync
talks to it over real HTTP through the real client, limiter and database (a throwaway database
created next to DATABASE_URL's, migrated with the project's `migrate`, dropped at the end).
Prints wall time, requests made, peak memory, and the sandbox's own count of 429s and of the
busiest second and minute, which proves no request went over Instantly's limits. A second,
incremental sync shows what a routine beat run costs.

Peak memory: the growth of the process's maximum resident set during the sync (the sandbox's
data is built before, so it is not counted); --tracemalloc also measures the Python heap's peak
precisely, at the cost of a slower run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbrain.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# DEBUG off (Django would keep every query in memory), so the settings want real secrets: the
# benchmark's data is thrown away, so throwaway ones do.
os.environ.setdefault("SECRET_KEY", "bench-only-" + uuid.uuid4().hex)
if not os.environ.get("SECRETS_ENCRYPTION_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["SECRETS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from accounts.db import as_owner  # noqa: E402

INSTANTLY_PER_SECOND = 100
INSTANTLY_PER_MINUTE = 6000


def rss_mb() -> float:
    """Maximum resident set size so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ThrowawayDatabase:
    """A fresh database beside the configured one, created and dropped by the owner role."""

    def __init__(self) -> None:
        self.connection = connections["default"]
        self.original = self.connection.settings_dict["NAME"]
        self.name = f"bench_sync_{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> str:
        self._as_owner(f'CREATE DATABASE "{self.name}"')
        self.connection.settings_dict["NAME"] = self.name
        call_command("migrate", verbosity=0, interactive=False)
        return self.name

    def __exit__(self, *exc_info) -> None:
        for conn in connections.all():
            conn.close()
        self.connection.settings_dict["NAME"] = self.original
        self._as_owner(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _as_owner(self, statement: str) -> None:
        """Run a statement as the owner, from the maintenance database (the configured one
        need not exist)."""
        self.connection.close()
        name = self.connection.settings_dict["NAME"]
        self.connection.settings_dict["NAME"] = "postgres"
        try:
            with as_owner("default"):
                with self.connection.cursor() as cursor:
                    cursor.execute(statement)
        finally:
            self.connection.close()
            self.connection.settings_dict["NAME"] = name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--leads-per-campaign", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--tracemalloc", action="store_true", help="measure the Python heap peak")
    args = parser.parse_args()

    from accounts.tenancy import staff_scope
    from instantly.connections import CLIENT_RATE_LIMITS, client_for
    from instantly.models import ProviderConnection
    from instantly.sandbox import DEFAULT_API_KEY, SandboxApp, SandboxServer, SandboxWorkspace
    from instantly.sync.run import sync_workspace

    print(f"Building the sandbox: {args.campaigns} campaigns, {args.accounts} mailboxes ...")
    started = time.monotonic()
    workspace = SandboxWorkspace(
        seed=1,
        campaigns=args.campaigns,
        accounts=args.accounts,
        leads_per_campaign=args.leads_per_campaign,
        now=datetime.now(UTC),  # activity up to today, as a routine re-sync would find it
    ).materialize()
    print(f"  built in {time.monotonic() - started:.1f} s")
    app = SandboxApp(workspace, per_second=INSTANTLY_PER_SECOND, per_minute=INSTANTLY_PER_MINUTE)

    with ThrowawayDatabase() as db_name, SandboxServer(app) as server:
        print(f"Throwaway database {db_name}; sandbox at {server.base_url}")
        with staff_scope():
            connection = ProviderConnection(name="Benchmark workspace", is_shared=True)
            connection.api_key = DEFAULT_API_KEY
            connection.save()
        client = client_for(connection, base_url=server.base_url)

        rss_before = rss_mb()
        if args.tracemalloc:
            tracemalloc.start()
        app.reset_stats()
        started = time.monotonic()
        # The mirror only: the history backfill has its own benchmark (bench/backfill.py).
        result = sync_workspace(
            connection, client=client, concurrency=args.concurrency, history=False
        )
        wall = time.monotonic() - started
        heap_peak = None
        if args.tracemalloc:
            heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        rss_growth = rss_mb() - rss_before
        stats = app.stats()

        print("\nFull sync")
        print(result.summary())
        print(f"  wall time            {wall:.1f} s (goal: under 30 s)")
        print(f"  requests made        {result.requests} (sandbox answered {stats['total']})")
        print(f"  answers by status    {stats['by_status']}")
        print(f"  429 answered         {stats['rate_limited']}")
        print(
            f"  busiest second       {stats['peak_per_second']} requests "
            f"(Instantly allows {INSTANTLY_PER_SECOND})"
        )
        print(
            f"  busiest minute       {stats['peak_per_minute']} requests "
            f"(Instantly allows {INSTANTLY_PER_MINUTE})"
        )
        print(
            f"  client limiter       {', '.join(f'{r.limit}/{r.period:g}s' for r in CLIENT_RATE_LIMITS)}"
        )
        print(f"  peak memory (RSS)    +{rss_growth:.0f} MB over {rss_before:.0f} MB before")
        if heap_peak is not None:
            print(f"  peak Python heap     {heap_peak:.0f} MB (tracemalloc)")

        app.reset_stats()
        started = time.monotonic()
        again = sync_workspace(
            connection, client=client, concurrency=args.concurrency, history=False
        )
        print("\nSecond (incremental) sync")
        print(f"  changed anything     {again.changed}")
        print(f"  wall time            {time.monotonic() - started:.1f} s")
        print(
            f"  requests made        {again.requests}; 429 answered: {app.stats()['rate_limited']}"
        )
        client.close()

        ok = (
            stats["rate_limited"] == 0
            and stats["peak_per_second"] <= INSTANTLY_PER_SECOND
            and stats["peak_per_minute"] <= INSTANTLY_PER_MINUTE
            and not again.changed
        )
    print("\n" + ("OK: no request over Instantly's limits" if ok else "FAILED: see above"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
