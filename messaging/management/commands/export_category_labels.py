"""Write people's category corrections as JSON lines in the corpus's format.

    manage.py export_category_labels > labels.jsonl
    .venv/bin/python bench/categorise.py --labels labels.jsonl

Each line is one corrected inbound message (its latest label): subject, text, the person's
category, the language left empty. The bench scores the categoriser on them, so corrections
count in the evaluation; adding them to the corpus (and retraining) teaches the model.
Message text is customer data: the file stays inside the agency.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from accounts.tenancy import staff_scope
from messaging.models import CategoryLabel


class Command(BaseCommand):
    help = "Export category corrections (labels) as JSON lines for the categoriser's bench."

    def handle(self, *args, **options):
        written = set()
        with staff_scope():
            labels = (
                CategoryLabel.objects.unscoped()
                .select_related("message")
                .order_by("message_id", "-created_at", "-pk")
            )
            for label in labels.iterator():
                if label.message_id in written:
                    continue  # the latest label of each message counts
                written.add(label.message_id)
                message = label.message
                self.stdout.write(json.dumps({
                    "id": f"label-{label.pk}", "language": "", "category": label.category,
                    "split": "labels", "subject": message.subject,
                    "text": message.body_text, "html": message.body_html,
                    "reference_date": message.sent_at.date().isoformat(),
                    "template": f"label.{message.pk}", "returns_on": None, "referral": None,
                    "previous_category": label.previous_category,
                }, ensure_ascii=False))  # fmt: skip
