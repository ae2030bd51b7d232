"""A worker killed with SIGKILL in the middle of a batch (issue 10, finding 8): its claimed
rows go back to work once their claim is stale, and every one is processed exactly once.

Real Redis, real Celery workers on the test database (see `test_webhook_integration`). The
claim timeout is 20 s here (75 s in production, where the bound is 75 + 30 s sweeps < 2 min),
and this test sweeps every second.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import CampaignDailyStat
from instantly.models import WebhookEvent
from instantly.sandbox.data import SandboxWorkspace
from instantly.sandbox.webhooks import generate_deliveries
from instantly.tests.test_webhook_integration import (  # noqa: F401 - redis_url is a fixture
    point_app_at,
    redis_url,
    start_worker,
    statuses,
    stop_worker,
)
from instantly.webhooks import ingest, queue, tasks
from messaging.models import Message
from salesbrain.bulk import insert_rows
from salesbrain.celery import app as celery_app
from testkit import make_connection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLAIM_TIMEOUT = 20
SLACK = 45  # a loaded CI machine: worker start-up, applying the batches again


def store(count: int) -> list[int]:
    conn = make_connection(
        "Sandbox", is_shared=True, workspace_id="ws-kill", api_key="kill-key-0000"
    )
    workspace = SandboxWorkspace(seed=11, campaigns=4, leads_per_campaign=40, accounts=6)
    payloads = generate_deliveries(workspace, count, seed=11, duplicate_ratio=0.0)
    events = [ingest.build_event(conn, payload) for payload in payloads]
    with staff_scope():
        rows = insert_rows(WebhookEvent, events, on_conflict=ingest.ON_DUPLICATE)
    return sorted(row[0] for row in rows)


def test_a_worker_killed_mid_batch_leaves_no_row_behind(redis_url, monkeypatch):  # noqa: F811
    # The sweeper runs here, in this process: it must use the workers' claim timeout.
    monkeypatch.setattr(queue, "PROCESSING_TIMEOUT", dt.timedelta(seconds=CLAIM_TIMEOUT))
    test_database = connection.settings_dict["NAME"]
    ids = store(1500)
    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    point_app_at(redis_url)
    env = {"WEBHOOK_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT)}
    first, first_log = start_worker(redis_url, test_database, **env)
    try:
        assert tasks.enqueue_events(ids) == len(ids)
        deadline = time.monotonic() + 60
        while statuses().get("processing", 0) == 0:
            assert time.monotonic() < deadline, "".join(first_log)
            time.sleep(0.01)
        first.kill()  # SIGKILL: no clean-up, no ack of the running task
        first.wait(10)
        killed_at = time.monotonic()
        claimed = statuses().get("processing", 0)
        assert claimed > 0

        second, second_log = start_worker(redis_url, test_database, **env)
        try:
            while True:
                now = statuses()
                if set(now) <= {"processed", "ignored"}:
                    break
                elapsed = time.monotonic() - killed_at
                assert elapsed < CLAIM_TIMEOUT + SLACK, (now, "".join(second_log))
                tasks.sweep_webhook_events(now=timezone.now())
                time.sleep(1)
        finally:
            stop_worker(second)
    finally:
        if first.poll() is None:
            stop_worker(first)
        point_app_at(broker)
        celery_app.conf.task_always_eager = eager

    assert sum(now.values()) == len(ids)
    with staff_scope():
        sent = sum(CampaignDailyStat.objects.values_list("sent", flat=True))
        outbound = Message.objects.filter(kind=Message.Kind.CAMPAIGN).count()
        retried = WebhookEvent.objects.filter(attempts__gt=1).count()
    assert sent == outbound  # nothing counted twice
    assert retried >= claimed  # the killed batch was taken again
