"""Pruning raw payloads of old processed webhook events (issue 16, item 4)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent
from instantly.webhooks import prune
from testkit.rows import make_webhook_event

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status
PAYLOAD = {"event_type": "reply_received", "reply_text": "Sounds good, call me."}


def event(shared_connection, key, status, age_days):
    row = make_webhook_event(shared_connection, key, status, payload=dict(PAYLOAD))
    with staff_scope():
        WebhookEvent.objects.unscoped().filter(pk=row.pk).update(
            received_at=timezone.now() - dt.timedelta(days=age_days)
        )
    return row


def reload(row) -> WebhookEvent:
    with staff_scope():
        return WebhookEvent.objects.unscoped().get(pk=row.pk)


def test_only_old_processed_payloads_are_pruned(shared_connection):
    old = event(shared_connection, "old", Status.PROCESSED, 91)
    recent = event(shared_connection, "recent", Status.PROCESSED, 89)
    untouched = [
        event(shared_connection, f"old-{status}", status, 200)
        for status in (Status.PENDING, Status.PROCESSING, Status.FAILED, Status.IGNORED)
    ]
    assert prune.prune_payloads() == 1
    pruned = reload(old)
    assert pruned.payload == {} and pruned.payload_pruned_at is not None
    # The row and its metadata stay.
    assert (pruned.status, pruned.dedupe_key, pruned.event_type_raw) == (
        Status.PROCESSED, "old", "reply_received",
    )  # fmt: skip
    for row in [recent, *untouched]:
        kept = reload(row)
        assert kept.payload == PAYLOAD and kept.payload_pruned_at is None, row.status


def test_the_default_retention_is_90_days_and_zero_keeps_everything(shared_connection):
    assert settings.WEBHOOK_PAYLOAD_RETENTION_DAYS == 90
    old = event(shared_connection, "old", Status.PROCESSED, 400)
    with override_settings(WEBHOOK_PAYLOAD_RETENTION_DAYS=0):
        assert prune.prune_payloads() == 0
    assert reload(old).payload == PAYLOAD
    assert prune.prune_payloads(retention_days=30) == 1


def test_works_in_batches_until_done_and_a_second_run_finds_nothing(shared_connection):
    rows = [event(shared_connection, f"e{i}", Status.PROCESSED, 100 + i) for i in range(7)]
    assert prune.prune_batch(timezone.now() - dt.timedelta(days=90), 3) == 3
    with override_settings(WEBHOOK_PAYLOAD_PRUNE_BATCH=3):
        assert prune.prune_payloads() == 4
        assert prune.prune_payloads() == 0
    assert all(reload(row).payload == {} for row in rows)


def test_the_beat_task_is_scheduled_and_registered():
    from salesbrain.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["instantly-prune-webhook-payloads"]
    assert entry["task"] == "instantly.webhooks.prune.prune_webhook_payloads"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@pytest.mark.django_db(transaction=True)
def test_a_locked_row_is_skipped_not_waited_for(shared_connection):
    """A row another transaction holds (processing it, say) is left for the next run."""
    held = event(shared_connection, "held", Status.PROCESSED, 120)
    free = event(shared_connection, "free", Status.PROCESSED, 121)
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with staff_scope():
                WebhookEvent.objects.unscoped().select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # fail, not hang, if it waited
            assert prune.prune_payloads() == 1
    finally:
        release.set()
        holder.join()
    assert reload(free).payload == {}
    assert reload(held).payload == PAYLOAD
    assert prune.prune_payloads() == 1
