"""Which connections a management command works on, with a command's errors: one place for the
"--connection or every connection" rule every `instantly_*` command follows."""

from __future__ import annotations

from django.core.management.base import CommandError

from instantly.connections import find_connections
from instantly.models import ProviderConnection

NO_CONNECTION = "No Instantly connection: set INSTANTLY_API_KEY or add one in the admin."


def command_connections(selector: str | None, *, include_disabled: bool = False) -> list:
    """The connections named by `--connection` (else all), or a CommandError saying why none."""
    try:
        connections = find_connections(selector, include_disabled=include_disabled)
    except ProviderConnection.DoesNotExist as exc:
        raise CommandError(str(exc))
    if not connections:
        raise CommandError(NO_CONNECTION)
    return connections
