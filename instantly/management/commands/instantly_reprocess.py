"""`manage.py instantly_reprocess`: queue failed (or ignored) webhook deliveries again."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent
from instantly.webhooks.reprocess import REPROCESSABLE, reprocess_events


class Command(BaseCommand):
    help = "Reprocess failed or ignored Instantly webhook deliveries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--status",
            action="append",
            choices=[s.value for s in REPROCESSABLE],
            help="Which events (repeatable; default: failed).",
        )
        parser.add_argument(
            "--ids", nargs="+", type=int, default=None, help="Only these event ids."
        )
        parser.add_argument(
            "--since", default=None, help="Only events received at or after this date/time (ISO)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the matching events, change nothing."
        )

    def handle(self, *args, status=None, ids=None, since=None, dry_run=False, **options):
        statuses = status or [WebhookEvent.Status.FAILED]
        with staff_scope():
            events = WebhookEvent.objects.unscoped().filter(status__in=statuses)
            if ids:
                events = events.filter(pk__in=ids)
            if since:
                events = events.filter(received_at__gte=_parse_since(since))
            if dry_run:
                self.stdout.write(f"{events.count()} events would be reprocessed")
                return
            count = reprocess_events(events)
        self.stdout.write(self.style.SUCCESS(f"{count} events queued for reprocessing"))


def _parse_since(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since: not a date or date-time: {value!r}")
        moment = dt.datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment
