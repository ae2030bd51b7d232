"""Recompute each organization's daily figures (the ledger) from its campaigns' days.

    manage.py rebuild_daily_totals [--check]

Needed only after rows of `campaigns_campaigndailystat` were written with triggers off (a bulk
load under `session_replication_role = replica`, `pg_restore --disable-triggers`): the
triggers keep the ledger otherwise. `--check` only reports the days that differ.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from campaigns import daily_totals


class Command(BaseCommand):
    help = "Recompute each organization's daily figures from its campaigns' daily figures."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only report differences")

    def handle(self, *args, check=False, **options):
        wrong = daily_totals.differences()
        self.stdout.write(f"{len(wrong)} (organization, day) pair(s) differed: {wrong[:20]}")
        if check:
            return
        started = time.perf_counter()
        rows = daily_totals.rebuild()
        seconds = time.perf_counter() - started
        self.stdout.write(f"Rebuilt {rows} organization day(s) in {seconds:.1f} s.")
