"""Categorise inbound messages recorded without a category (before the categoriser existed).

    manage.py categorise_inbox [--limit N]

Sets what recording sets (thread category, lead flags, proposals, scores) and tells the
listeners (the block list), but raises no notification: the replies are old news.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.tenancy import staff_scope
from messaging.reply_categories import categorise_backlog


class Command(BaseCommand):
    help = "Categorise inbound messages that have no category yet."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="at most this many")

    def handle(self, *args, limit=None, **options):
        with staff_scope():
            done = categorise_backlog(limit=limit)
        self.stdout.write(f"Categorised {done} message(s).")
