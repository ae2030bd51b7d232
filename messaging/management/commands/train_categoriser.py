"""Rebuild the reply categoriser's model from the shipped corpus (reproducible: fixed seed).

    manage.py train_categoriser [--check]

Writes `messaging/categorise/data/model.zip` with the corpus's sha256 inside; commit both.
`--check` trains in memory and fails if the result differs from the committed artifact.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from messaging.categorise.model import MODEL_PATH
from messaging.categorise.training import train, write_model


class Command(BaseCommand):
    help = "Train the reply categoriser from the shipped corpus and write its artifact."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true",
            help="fail if training gives other bytes than the committed artifact",
        )  # fmt: skip

    def handle(self, *args, check=False, **options):
        if check:
            if train() != MODEL_PATH.read_bytes():
                raise CommandError(f"{MODEL_PATH.name} differs from a fresh training run.")
            self.stdout.write(f"{MODEL_PATH.name} matches a fresh training run.")
            return
        meta = write_model()
        self.stdout.write(
            f"Wrote {MODEL_PATH.name}: {meta['trained_on']} replies, temperature "
            f"{meta['temperature']}, corpus sha256 {meta['corpus_sha256'][:12]}…"
        )
