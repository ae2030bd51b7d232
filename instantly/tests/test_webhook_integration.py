"""End to end: real HTTP (pytest-django's live server), the real Redis broker, a real Celery
worker process on the same test database, connecting as the application role like the app.

Needs SALESBRAIN_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/3; the database is flushed).
Skipped when unset, unless SALESBRAIN_REQUIRE_INTEGRATION=1, then it fails. Tests run with
`transaction=True`: the worker can only see committed rows.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import CampaignDailyStat
from instantly.models import WebhookEvent
from instantly.sandbox.data import SandboxWorkspace
from instantly.sandbox.webhooks import generate_deliveries, post_deliveries
from instantly.webhooks import tasks
from messaging.models import Message
from salesbrain.celery import app as celery_app
from testkit import make_connection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
WAIT_SECONDS = 90


@pytest.fixture(scope="module")
def redis_url():
    url = os.environ.get("SALESBRAIN_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("SALESBRAIN_REQUIRE_INTEGRATION") == "1":
            pytest.fail("SALESBRAIN_TEST_REDIS_URL is required (SALESBRAIN_REQUIRE_INTEGRATION=1)")
        pytest.skip("SALESBRAIN_TEST_REDIS_URL not set")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def start_worker(redis_url: str, test_database: str, **extra_env: str):
    """Start `celery worker -P solo` on the test database, as the app would run it; answer
    (process, log lines) once it is ready."""
    owner = settings.DATABASE_OWNER
    cfg = connection.settings_dict
    credentials = owner["USER"] + (f":{owner['PASSWORD']}" if owner["PASSWORD"] else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salesbrain.settings",
        # DATABASE_URL names the owner, as in production; the worker connects as APP_DB_USER.
        "DATABASE_URL": f"postgres://{credentials}@{cfg['HOST']}:{cfg['PORT']}/{test_database}",
        "APP_DB_USER": settings.APP_DB_USER,
        "APP_DB_PASSWORD": settings.APP_DB_PASSWORD,
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "SECRETS_ENCRYPTION_KEYS": ",".join(settings.SECRETS_ENCRYPTION_KEYS),
        "DEBUG": "0",
        "CONN_MAX_AGE": "0",
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    process = subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "salesbrain",
            "worker",
            "-P",
            "solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"webhook-test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: deque[str] = deque(maxlen=400)
    ready = threading.Event()

    def read():
        for line in process.stdout:
            log.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60):
        process.kill()
        pytest.fail("celery worker did not start:\n" + "".join(log))
    return process, log


def stop_worker(process) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="module")
def worker(redis_url, django_db_setup, django_db_blocker):
    """`celery worker -P solo` on the test database, as the app would run it."""
    with django_db_blocker.unblock():
        test_database = connection.settings_dict["NAME"]
    process, log = start_worker(redis_url, test_database)
    yield log
    stop_worker(process)


def point_app_at(broker_url: str) -> None:
    """Make this process (the live server's app) publish to `broker_url`."""
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = broker_url
    celery_app._pool = None  # connection pools are made for one URL
    celery_app.amqp._producer_pool = None
    tasks.breaker.reset()


@pytest.fixture
def app_on_broker(redis_url):
    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    point_app_at(redis_url)
    yield redis_url
    point_app_at(broker)
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def workspace_connection():
    return make_connection(
        "Sandbox",
        is_shared=True,
        workspace_id="ws-sandbox",
        api_key="sandbox-key-0000",
        with_secret=True,
    )


def statuses() -> dict[str, int]:
    with staff_scope():
        rows = WebhookEvent.objects.values_list("status", flat=True)
        counts: dict[str, int] = {}
        for status in rows:
            counts[status] = counts.get(status, 0) + 1
        return counts


def wait_until_settled(expected: int, worker_log) -> dict[str, int]:
    """Poll until every stored event is processed or ignored (the worker runs elsewhere)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        now = statuses()
        if sum(now.values()) == expected and set(now) <= {"processed", "ignored"}:
            return now
        time.sleep(0.25)
    pytest.fail(f"events not processed in time: {statuses()}\n" + "".join(worker_log))


def deliveries(count: int, seed: int) -> list[dict]:
    workspace = SandboxWorkspace(seed=seed, campaigns=3, leads_per_campaign=6, accounts=4)
    return list(generate_deliveries(workspace, count, seed=seed, duplicate_ratio=0.1))


def test_deliveries_posted_over_http_are_processed_by_the_worker(
    live_server, worker, app_on_broker, workspace_connection
):
    _conn, secret = workspace_connection
    batch = deliveries(60, seed=3)
    url = live_server.url + "/webhooks/instantly/webhook"
    answers = post_deliveries(url, batch, secret)
    assert answers == {200: 60}

    stored = len({repr(sorted(d.items())) for d in batch})  # identical retries stored once
    settled = wait_until_settled(stored, worker)
    assert settled.get("processed", 0) > 0

    sent_ids = {(d["campaign_id"], d["email_id"]) for d in batch if d["event_type"] == "email_sent"}
    with staff_scope():
        sent = sum(CampaignDailyStat.objects.values_list("sent", flat=True))
        outbound = Message.objects.filter(kind=Message.Kind.CAMPAIGN).count()
    assert sent == outbound == len(sent_ids)


def test_with_the_broker_down_deliveries_wait_and_the_sweeper_recovers_them(
    live_server, worker, app_on_broker, workspace_connection
):
    _conn, secret = workspace_connection
    url = live_server.url + "/webhooks/instantly/webhook"
    batch = deliveries(40, seed=5)
    stored = len({repr(sorted(d.items())) for d in batch})

    point_app_at(DEAD_BROKER)
    started = time.monotonic()
    assert post_deliveries(url, batch, secret) == {200: 40}
    assert time.monotonic() - started < 20  # a dead broker does not stall the answers
    pending = statuses()
    assert sum(pending.values()) == stored
    assert set(pending) <= {"pending", "ignored"} and pending.get("pending", 0) > 0

    point_app_at(app_on_broker)  # the broker is back
    assert statuses() == pending  # nothing happens by itself before the sweeper runs
    result = tasks.sweep_webhook_events(now=timezone.now() + dt.timedelta(minutes=2))
    assert result["enqueued"] == pending["pending"]
    settled = wait_until_settled(stored, worker)
    assert settled.get("processed", 0) == pending["pending"]
