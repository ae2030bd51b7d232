"""A worker that dies or loses the database gives its claimed rows back within 2 minutes
(issue 10, finding 8): a task time limit below the claim timeout, a sweeper every 30 s, and a
task whose claim or failure record hits a database error tries again after a delay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import OperationalError

from instantly.webhooks import queue, tasks

RECOVERY_BOUND = dt.timedelta(minutes=2)


def sweep_interval() -> dt.timedelta:
    schedule = settings.CELERY_BEAT_SCHEDULE["instantly-sweep-webhook-events"]["schedule"]
    return dt.timedelta(seconds=float(schedule))


def test_a_dead_workers_rows_are_swept_back_within_two_minutes():
    assert queue.PROCESSING_TIMEOUT + sweep_interval() <= RECOVERY_BOUND


@pytest.mark.parametrize("task", [tasks.process_webhook_event, tasks.process_webhook_events])
def test_a_task_is_stopped_before_its_claim_goes_stale(task):
    """Otherwise a second worker could take rows the first one is still applying."""
    assert task.time_limit is not None and task.soft_time_limit is not None
    assert task.soft_time_limit < task.time_limit < queue.PROCESSING_TIMEOUT.total_seconds()


@pytest.fixture
def published(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "_publish", lambda task, args, **kw: calls.append((task, args, kw)))
    return calls


@pytest.mark.parametrize("where", ["claim_events", "_record_failure"])
def test_a_database_error_in_a_task_schedules_it_again_after_a_delay(monkeypatch, published, where):
    def database_gone(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    if where == "claim_events":
        monkeypatch.setattr(queue, "claim_events", database_gone)
    else:
        claimed = queue.ClaimedEvent(
            id=7, connection_id=None, organization_id=None, payload={}, received_at=None,
            event_type="email_sent", attempts=1,
        )  # fmt: skip
        monkeypatch.setattr(queue, "claim_events", lambda *a, **k: [claimed])
        monkeypatch.setattr(queue, "Batch", database_gone)
        monkeypatch.setattr(queue, "_record_failure", database_gone)

    assert tasks.process_webhook_events([7]) == {"database_error": True}
    [(task, args, options)] = published
    assert task is tasks.process_webhook_events and args == ([7],)
    # Late enough for a claim that was made to have gone stale, early enough for the bound.
    delay = dt.timedelta(seconds=options["countdown"])
    assert queue.PROCESSING_TIMEOUT < delay < RECOVERY_BOUND
