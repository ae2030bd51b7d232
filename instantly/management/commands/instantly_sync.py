"""`manage.py instantly_sync`: mirror Instantly workspaces now, showing progress and a summary.

Syncs every connection that is not disabled (the shared one is created or updated from
INSTANTLY_API_KEY first), or only the one named with --connection (its id or name).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from instantly.errors import InstantlyError
from instantly.management.selection import command_connections
from instantly.sync.run import DEFAULT_CONCURRENCY, SyncAlreadyRunning, sync_workspace
from instantly.sync.write import WorkspaceMismatchError


class Command(BaseCommand):
    help = (
        "Sync Instantly workspaces (campaigns, mailboxes, analytics, and what is new in the "
        "Unibox and lead lists) into Salesbrain now."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name of one connection (default: all)")
        parser.add_argument(
            "--full",
            action="store_true",
            help="fetch every campaign's daily and step figures, even with unchanged totals",
        )
        parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
        parser.add_argument(
            "--history",
            action="store_true",
            help="backfill the whole history now: every Unibox page not yet read (at 20 "
            "requests a minute) and every campaign's leads",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connections = command_connections(options["connection"])
        failed = []
        for connection in connections:
            self.stdout.write(self.style.MIGRATE_HEADING(f"Syncing {connection.name}"))
            try:
                result = sync_workspace(
                    connection,
                    full=options["full"],
                    concurrency=options["concurrency"],
                    history=True if options["history"] else None,
                    progress=lambda message: self.stdout.write(f"  {message}"),
                )
            except (InstantlyError, WorkspaceMismatchError, SyncAlreadyRunning) as exc:
                # The connection's last_error already holds the explanation (keys redacted).
                failed.append(connection.name)
                self.stderr.write(self.style.ERROR(f"  failed: {connection.last_error or exc}"))
                continue
            self.stdout.write(result.summary())
            verdict = "changes written" if result.changed else "nothing changed"
            self.stdout.write(self.style.SUCCESS(f"  done: {verdict}"))
        if failed:
            raise CommandError(f"sync failed for: {', '.join(failed)}")
