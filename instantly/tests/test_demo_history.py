"""`make run`'s demo: before any webhook is stored, the history backfill has filled inboxes and
lead lists from the sandbox; the webhook traffic then lands on top without a duplicate."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.tenancy import staff_scope
from campaigns.models import Lead
from instantly import demo
from messaging.models import Message, Thread

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    with staff_scope():
        return {
            "threads": Thread.objects.unscoped().count(),
            "messages": Message.objects.unscoped().count(),
            "leads": Lead.objects.unscoped().exclude(instantly_id="").count(),
        }


def test_the_demo_shows_backfilled_history_before_any_webhook(monkeypatch):
    seen = {}
    real = demo.generate_deliveries

    def first_webhooks(*args, **kwargs):
        seen.update(_counts())  # the moment before the first delivery is stored
        return real(*args, **kwargs)

    monkeypatch.setattr(demo, "generate_deliveries", first_webhooks)
    out = StringIO()
    call_command("seed_demo", stdout=out)

    unibox = demo.demo_workspace()
    assert seen["messages"] == len(unibox.emails()) > 300
    assert seen["leads"] == len(unibox.leads()) > 300
    assert seen["threads"] > 100
    assert "History backfilled before any webhook" in out.getvalue()

    with staff_scope():
        ids = Counter(
            Message.objects.unscoped()
            .exclude(instantly_email_id="")
            .values_list("campaign_id", "instantly_email_id")
        )
        assert max(ids.values()) == 1  # webhook copies merged into the backfilled messages
        adopted = Message.objects.unscoped().filter(
            raw__source="backfill", source_event_id__isnull=False
        )
        assert adopted.exists()
        for thread in Thread.objects.unscoped().order_by("?")[:50]:
            assert thread.message_count == thread.messages.count()
