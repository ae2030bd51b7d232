"""`manage.py instantly_check`: is each Instantly connection usable? One clear line each.

Checks the key (current workspace), counts campaigns and mailboxes, and checks the v1 key when
one is set. Exits non-zero when any connection fails, so it fits in deploy scripts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from instantly.checks import check_connection
from instantly.management.selection import command_connections


class Command(BaseCommand):
    help = "Test Instantly connections: key, workspace, campaign and mailbox counts, v1 key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name of one connection (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        connections = command_connections(options["connection"], include_disabled=True)
        failed = []
        for connection in connections:
            key = f"key ***{connection.api_key_last4 or '?'}"
            result = check_connection(connection)
            if result.ok:
                self.stdout.write(
                    self.style.SUCCESS(f"OK   {connection.name} ({key}): ") + result.message
                )
            else:
                failed.append(connection.name)
                self.stdout.write(
                    self.style.ERROR(f"FAIL {connection.name} ({key}): ") + result.message
                )
        if failed:
            raise CommandError(f"{len(failed)} connection(s) failed: {', '.join(failed)}")
