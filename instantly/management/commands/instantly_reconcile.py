"""`manage.py instantly_reconcile`: replay deliveries Instantly's log shows we never received.

What the periodic task does (`instantly.tasks.reconcile_all_deliveries`), now; `--hours` reads
the log that far back instead of from the last run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from instantly.connections import redact
from instantly.errors import InstantlyError
from instantly.management.selection import command_connections
from instantly.reconcile import reconcile_deliveries


class Command(BaseCommand):
    help = "Compare Instantly's webhook delivery log with what was received; replay the missing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name of one connection (default: all)")
        parser.add_argument("--hours", type=float, help="read the log this far back")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["hours"] is not None:
            if options["hours"] <= 0:
                raise CommandError("--hours must be positive")
            since = timezone.now() - dt.timedelta(hours=options["hours"])
        failed = []
        for connection in command_connections(options["connection"]):
            try:
                result = reconcile_deliveries(connection, since=since)
            except InstantlyError as exc:
                failed.append(connection.name)
                self.stderr.write(
                    self.style.ERROR(f"{connection.name}: ") + redact(str(exc), connection)
                )
                continue
            self.stdout.write(self.style.SUCCESS(f"{connection.name}: ") + result.summary())
        if failed:
            raise CommandError(f"reconciliation failed for: {', '.join(failed)}")
