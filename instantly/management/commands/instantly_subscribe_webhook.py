"""`manage.py instantly_subscribe_webhook`: have Instantly post every event to Salesbrain.

Registers INSTANTLY_WEBHOOK_URL (or --url) for all events with the connection's secret as a
custom header, reusing an existing subscription for the same URL; --resume re-enables a
subscription Instantly disabled after failed deliveries.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from instantly.connections import redact
from instantly.errors import InstantlyError
from instantly.management.selection import command_connections
from instantly.subscriptions import SubscriptionNotFound, register_webhook, resume_webhook


class Command(BaseCommand):
    help = "Register (or --resume) Salesbrain's webhook subscription at Instantly."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--connection", help="id or name of one connection (default: all)")
        parser.add_argument("--url", help="receiver URL (default: INSTANTLY_WEBHOOK_URL)")
        parser.add_argument("--resume", action="store_true", help="resume a disabled one")

    def handle(self, *args: Any, **options: Any) -> None:
        connections = command_connections(options["connection"])
        failed = []
        for connection in connections:
            try:
                if options["resume"]:
                    resume_webhook(connection)
                    text = f"subscription {connection.webhook_subscription_id} resumed"
                else:
                    webhook = register_webhook(connection, options["url"])
                    text = f"subscription {webhook.id} for {webhook.target_hook_url} active"
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc))
            except (InstantlyError, SubscriptionNotFound) as exc:
                failed.append(connection.name)
                self.stderr.write(
                    self.style.ERROR(f"{connection.name}: ") + redact(str(exc), connection)
                )
                continue
            self.stdout.write(self.style.SUCCESS(f"{connection.name}: ") + text)
        if failed:
            raise CommandError(f"failed for: {', '.join(failed)}")
