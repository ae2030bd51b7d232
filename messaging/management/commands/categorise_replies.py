"""Categorise replies given as JSON lines on standard input; one JSON line out per line in.

    echo '{"id": 1, "subject": "Re: hi", "text": "Please remove me"}' \
        | manage.py categorise_replies

In: `{"id": ..., "subject": "...", "text": "..."}`, optionally `"date"` (ISO, the day the
reply arrived, for return dates without a year; default today). Out: `{"id", "category",
"confidence"}`, plus `returns_on` and `referral` where found; a line that cannot be read
answers `{"id", "error"}` and the rest go on. No database is touched.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

from django.core.management.base import BaseCommand

from messaging.categorise.categoriser import default_categoriser

# Enough of a broken line to answer for its id: `"id": 12` or `"id": "abc"`.
_ID = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)')


class Command(BaseCommand):
    help = "Categorise replies read as JSON lines on stdin; write JSON lines to stdout."
    requires_system_checks: list = []  # no database, no checks: a pure text filter

    def handle(self, *args, **options):
        categoriser = default_categoriser()
        stdin = options.get("stdin") or sys.stdin
        for line in stdin:
            if not line.strip():
                continue
            self.stdout.write(json.dumps(self._answer(categoriser, line), ensure_ascii=False))
            self.stdout.flush()

    @staticmethod
    def _answer(categoriser, line: str) -> dict:
        try:
            item = json.loads(line)
        except ValueError as exc:
            return {"id": _salvage_id(line), "error": f"invalid JSON: {exc.msg}"}
        if not isinstance(item, dict):
            return {"id": None, "error": "expected a JSON object"}
        reply_id = item.get("id")
        subject, text = item.get("subject", ""), item.get("text", "")
        if not isinstance(subject, str) or not isinstance(text, str):
            return {"id": reply_id, "error": "subject and text must be strings"}
        if not (subject.strip() or text.strip()):
            return {"id": reply_id, "error": "empty reply: no subject and no text"}
        try:
            reference = dt.date.fromisoformat(item["date"][:10]) if item.get("date") else None
        except (TypeError, ValueError):
            return {"id": reply_id, "error": "date must be an ISO date"}
        result = categoriser.categorise(subject, text, reference_date=reference)
        return {"id": reply_id, **result.as_dict()}


def _salvage_id(line: str):
    match = _ID.search(line)
    if not match:
        return None
    try:
        return json.loads(match.group(1))
    except ValueError:
        return None
