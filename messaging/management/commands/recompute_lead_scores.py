"""Rebuild every lead's score from its events (after changing points, or to check).

    manage.py recompute_lead_scores [--check]

`--check` first compares each lead's incrementally kept score with a recomputation, and
reports the leads that differ (there should be none).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import Lead
from messaging.scoring import store as scoring


class Command(BaseCommand):
    help = "Recompute every lead's score from its opens, clicks, replies and meetings."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report differences first")

    def handle(self, *args, check=False, **options):
        now = timezone.now()
        with staff_scope():
            if check:
                before = dict(Lead.objects.unscoped().values_list("pk", "score"))
            started = time.perf_counter()
            written = scoring.recompute_scores(now)
            seconds = time.perf_counter() - started
            if check:
                after = dict(Lead.objects.unscoped().values_list("pk", "score"))
                differ = sorted(pk for pk, score in after.items() if before.get(pk) != score)
                self.stdout.write(f"{len(differ)} lead(s) differed: {differ[:20]}")
        self.stdout.write(f"Recomputed {written} lead score(s) in {seconds:.1f} s.")
