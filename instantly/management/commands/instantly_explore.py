"""`manage.py instantly_explore`: ask Instantly's v2 (and v1) API what it answers, and print it.

For looking at a workspace's real payloads before trusting documentation: each probe prints
the status, the item count and the first item's JSON (shortened unless --full). Keys and the
webhook secret are masked everywhere; the probes only read (no writes, one request each).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from instantly.connections import client_for, mask_key, redact
from instantly.errors import InstantlyError
from instantly.management.selection import command_connections
from instantly.models import ProviderConnection

PREVIEW_CHARS = 600


class Command(BaseCommand):
    help = "Probe Instantly's API v2 and v1 with a connection's keys and print what they answer."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name of one connection (default: all)")
        parser.add_argument("--full", action="store_true", help="print whole answers")

    def handle(self, *args: Any, **options: Any) -> None:
        connections = command_connections(options["connection"], include_disabled=True)
        for connection in connections:
            self._explore(connection, full=options["full"])

    def _explore(self, connection: ProviderConnection, *, full: bool) -> None:
        v1_key = connection.api_key_v1
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"{connection.name}: {settings.INSTANTLY_API_BASE_URL}, "
                f"v2 key {mask_key(connection.api_key)}, v1 key {mask_key(v1_key)}"
            )
        )
        with client_for(connection) as client:
            answers = {}

            def probe(method: str, path: str, **kwargs: Any) -> Any:
                label = f"{method} /api/v2{path}"
                if kwargs.get("params"):
                    label += " " + json.dumps(kwargs["params"])
                try:
                    data = client.request(method, path, **kwargs)
                except InstantlyError as exc:
                    self.stdout.write(
                        self.style.ERROR(f"  {label} -> {type(exc).__name__}: ")
                        + redact(str(exc), connection)
                    )
                    return None
                self._show(connection, label, data, full=full)
                answers[path] = data
                return data

            probe("GET", "/workspaces/current")
            campaign_id = _first(probe("GET", "/campaigns", params={"limit": 1}), "id")
            if campaign_id:
                probe("GET", "/campaigns/analytics", params={"ids": campaign_id})
                probe("GET", "/campaigns/analytics/daily", params={"campaign_id": campaign_id})
                probe("GET", "/campaigns/analytics/steps", params={"campaign_id": campaign_id})
            email = _first(probe("GET", "/accounts", params={"limit": 1}), "email")
            if email:
                probe("GET", "/accounts/analytics/daily", params={"emails": email})
            probe("POST", "/leads/list", json={"limit": 1})
            probe("GET", "/emails", params={"limit": 1})
            probe("GET", "/webhooks", params={"limit": 1})

            if not v1_key:
                self.stdout.write("  v1: no v1 key on this connection, not probed")
                return
            try:
                client.check_v1(v1_key)
            except InstantlyError as exc:
                self.stdout.write(
                    self.style.ERROR(f"  GET /api/v1/campaign/list -> {type(exc).__name__}: ")
                    + redact(str(exc), connection)
                )
            else:
                self.stdout.write(
                    self.style.SUCCESS("  GET /api/v1/campaign/list -> 200: v1 key accepted")
                )

    def _show(self, connection: ProviderConnection, label: str, data: Any, *, full: bool) -> None:
        items = data.get("items") if isinstance(data, dict) else data
        if isinstance(items, list):
            summary = f"{len(items)} item(s)"
            first = items[0] if items else None
            if isinstance(data, dict) and data.get("next_starting_after"):
                summary += ", more pages"
        else:
            summary, first = "object", data
        if isinstance(first, dict):
            summary += f"; fields: {', '.join(first)}"
        self.stdout.write(self.style.SUCCESS(f"  {label} -> 200: ") + summary)
        if first is not None:
            text = redact(json.dumps(first, indent=2 if full else None, default=str), connection)
            if not full and len(text) > PREVIEW_CHARS:
                text = text[:PREVIEW_CHARS] + " ..."
            self.stdout.write(f"    {text}")


def _first(data: Any, field: str) -> str | None:
    items = data.get("items") if isinstance(data, dict) else data
    if isinstance(items, list) and items and isinstance(items[0], dict):
        value = items[0].get(field)
        return str(value) if value else None
    return None
