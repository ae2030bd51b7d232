"""`manage.py instantly_test_webhook`: ask Instantly for a test delivery and wait for it.

Calls POST /api/v2/webhooks/{id}/test for the connection's subscription and reports whether a
delivery reached the receiver within --wait seconds (30 by default). Exits non-zero when one
did not, so it can gate a deploy.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from instantly.connections import redact
from instantly.delivery_test import WAIT_SECONDS, run_test_delivery
from instantly.management.selection import command_connections
from instantly.models import WebhookTest


class Command(BaseCommand):
    help = "Send a test webhook delivery from Instantly and report whether it arrived."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name of one connection (default: all)")
        parser.add_argument("--wait", type=float, default=WAIT_SECONDS, help="seconds to wait")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = []
        for connection in command_connections(options["connection"]):
            test = run_test_delivery(connection, wait=options["wait"])
            detail = redact(test.detail, connection)
            if test.outcome == WebhookTest.Outcome.ARRIVED:
                self.stdout.write(self.style.SUCCESS(f"{connection.name}: ") + detail)
            else:
                failed.append(connection.name)
                label = test.get_outcome_display().lower()
                self.stderr.write(self.style.ERROR(f"{connection.name}: {label}: ") + detail)
        if failed:
            raise CommandError(f"no test delivery arrived for: {', '.join(failed)}")
