"""`manage.py instantly_export`: everything Salesbrain mirrors from a workspace, to a JSON file.

The file holds Instantly's raw payloads (workspace, mailboxes, campaigns, analytics totals,
daily and per-step figures, mailbox daily figures; leads with --include-leads) and can be
loaded again with `instantly_import`. It holds no API key or webhook secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from instantly.connections import client_for, redact
from instantly.errors import InstantlyError
from instantly.management.selection import command_connections
from instantly.models import ProviderConnection
from instantly.sync.run import DEFAULT_CONCURRENCY
from instantly.sync.transfer import export_workspace


class Command(BaseCommand):
    help = "Export all of an Instantly workspace's data that Salesbrain mirrors to a JSON file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name (needed when there are several)")
        parser.add_argument("--output", "-o", help="file to write (default: a dated name)")
        parser.add_argument("--include-leads", action="store_true", help="add every lead")
        parser.add_argument("--indent", type=int, default=None, help="pretty-print JSON")
        parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = _one_connection(options["connection"])
        self.stdout.write(f"Exporting {connection.name} ...")
        try:
            with client_for(connection) as client:
                data = export_workspace(
                    client,
                    include_leads=options["include_leads"],
                    concurrency=options["concurrency"],
                    progress=lambda message: self.stdout.write(f"  {message}"),
                )
        except InstantlyError as exc:
            raise CommandError(redact(f"export failed: {exc}", connection))
        workspace_id = data["workspace"].get("id", "workspace")
        default = f"instantly-export-{workspace_id}-{timezone.now():%Y%m%d-%H%M%S}.json"
        path = Path(options["output"] or default)
        with path.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=options["indent"], ensure_ascii=False)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {path}: {len(data['campaigns'])} campaigns, {len(data['accounts'])} "
                f"mailboxes, {len(data['campaign_daily_analytics'])} campaigns with figures"
            )
        )


def _one_connection(selector: str | None) -> ProviderConnection:
    connections = command_connections(selector, include_disabled=bool(selector))
    if len(connections) > 1:
        names = ", ".join(repr(c.name) for c in connections)
        raise CommandError(f"Several connections ({names}): choose one with --connection.")
    return connections[0]
