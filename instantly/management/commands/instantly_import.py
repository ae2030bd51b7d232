"""`manage.py instantly_import FILE`: load an `instantly_export` file into the database.

It goes through the sync's own writer, so it is idempotent (a second import changes nothing)
and behaves like a sync of that snapshot: campaigns and mailboxes missing from the file are
marked vanished, shared-workspace campaigns keep their assignments. The connection is the one
whose workspace id matches the file's, unless --connection names one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.tenancy import staff_scope
from instantly.connections import find_connections
from instantly.models import ProviderConnection
from instantly.sync.run import SyncAlreadyRunning
from instantly.sync.transfer import import_workspace
from instantly.sync.write import WorkspaceMismatchError


class Command(BaseCommand):
    help = "Load an instantly_export JSON file into Salesbrain (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="a file written by instantly_export")
        parser.add_argument("--connection", help="id or name of the connection to load into")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            with path.open(encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}")
        if not isinstance(data, dict) or not isinstance(data.get("workspace"), dict):
            raise CommandError(f"{path} is not an instantly_export file")
        connection = _connection_for(data["workspace"].get("id"), options["connection"])
        self.stdout.write(f"Importing {path} into {connection.name} ...")
        try:
            result = import_workspace(
                connection, data, progress=lambda message: self.stdout.write(f"  {message}")
            )
        except (ValueError, WorkspaceMismatchError, SyncAlreadyRunning) as exc:
            raise CommandError(str(exc))
        self.stdout.write(result.summary())
        if data.get("leads"):
            self.stdout.write(f"  {len(data['leads'])} lead(s) in the file were not imported")
        verdict = "changes written" if result.changed else "nothing changed"
        self.stdout.write(self.style.SUCCESS(f"Done: {verdict}"))


def _connection_for(workspace_id: str | None, selector: str | None) -> ProviderConnection:
    if selector:
        try:
            return find_connections(selector, include_disabled=True)[0]
        except ProviderConnection.DoesNotExist as exc:
            raise CommandError(str(exc))
    find_connections()  # creates the shared connection from INSTANTLY_API_KEY if needed
    with staff_scope():
        matches = list(ProviderConnection.objects.unscoped().filter(workspace_id=workspace_id))
    if len(matches) == 1:
        return matches[0]
    raise CommandError(
        f"No single connection mirrors workspace {workspace_id}: choose one with --connection."
    )
