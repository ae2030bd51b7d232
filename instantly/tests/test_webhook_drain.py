"""The receiver's front door and the drain behind it: one statement that authenticates and
stores (and leaves no wider scope behind), one Redis key that queues one drain at a time, and
a drain that claims everything pending in batches."""

from __future__ import annotations

import pytest
import redis

from accounts.tenancy import staff_scope, tenant_scope
from instantly.models import WebhookEvent, secret_digest
from instantly.webhooks import ingest, queue, tasks
from salesbrain import bulk
from testkit import make_connection

OPENED = {
    "timestamp": "2026-03-02T10:02:11.000Z",
    "event_type": "email_opened",
    "campaign_id": "c-unknown",
    "lead_email": "maya@example.com",
    "email_account": "sam@example.com",
}


class FakeRedis:
    """SET NX / DELETE on one dict, like the two commands the waker and the drain use."""

    def __init__(self, down: bool = False) -> None:
        self.keys: dict[str, str] = {}
        self.down = down
        self.sets = 0

    def set(self, key, value, nx=False, px=None):
        if self.down:
            raise redis.ConnectionError("Connection refused")
        self.sets += 1
        if nx and key in self.keys:
            return None
        self.keys[key] = value
        return True

    def delete(self, key):
        if self.down:
            raise redis.ConnectionError("Connection refused")
        return 1 if self.keys.pop(key, None) is not None else 0


@pytest.fixture
def fake_redis(monkeypatch):
    monkeypatch.setitem(tasks.process_webhook_event.app.conf, "task_always_eager", False)
    fake = FakeRedis()
    monkeypatch.setattr(tasks, "_redis", lambda: fake)
    monkeypatch.setattr(tasks, "breaker", tasks._Breaker(clock=lambda: 1000.0))
    return fake


@pytest.fixture
def published(monkeypatch):
    names = []
    monkeypatch.setattr(
        tasks,
        "_publish",
        lambda task, args, **kw: names.append(task.name.rsplit(".", 1)[1]) or True,
    )
    return names


# --- waking ------------------------------------------------------------------------------------


def test_a_burst_of_deliveries_queues_one_drain_until_it_starts(fake_redis, published):
    for n in range(5):
        assert tasks.wake_drain([n])
    assert published == ["drain_webhook_events"]
    assert fake_redis.sets == 5  # one cheap SET NX per wake-up, not a publish
    tasks._forget_drain_wanted()  # what the drain does first
    assert tasks.wake_drain([6])
    assert published == ["drain_webhook_events"] * 2


def test_redis_down_leaves_the_rows_to_the_sweeper_and_never_raises(fake_redis, published):
    fake_redis.down = True
    assert tasks.wake_drain([1]) is False
    assert published == []
    assert not tasks.breaker.allows()  # the next deliveries do not wait for a dead broker


def test_a_failed_publish_clears_the_key_so_the_next_delivery_tries_again(fake_redis, monkeypatch):
    monkeypatch.setattr(tasks, "_publish", lambda task, args, **kw: False)
    assert tasks.wake_drain([1]) is False
    assert tasks.DRAIN_WANTED_KEY not in fake_redis.keys


def test_the_waker_rests_between_wake_ups():
    """At most one wake-up per interval: ids that arrive meanwhile go in the next one."""
    import threading

    batches, done = [], threading.Event()

    def publish(ids):
        batches.append(list(ids))
        if sum(map(len, batches)) == 3:
            done.set()

    publisher = tasks._Publisher(publish, interval=0.2)
    publisher.submit(1)
    publisher.submit(2)
    publisher.submit(3)
    assert done.wait(10)
    assert len(batches) <= 2 and sorted(sum(batches, [])) == [1, 2, 3]


# --- draining ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_drain_processes_everything_pending_in_batches_and_clears_the_key(
    fake_redis, published, monkeypatch
):
    connection = make_connection("acme")
    for n in range(5):
        ingest.store_delivery(connection, {**OPENED, "n": n})
    fake_redis.keys[tasks.DRAIN_WANTED_KEY] = "1"
    monkeypatch.setattr(queue, "BATCH_SIZE", 2)
    claims = []
    real = queue.process_events

    def spy(**kw):
        report = real(**kw)
        claims.append((kw, report.claimed, report.last_id, report.processed))
        return report

    monkeypatch.setattr(queue, "process_events", spy)
    assert tasks.drain_webhook_events()["processed"] == 5
    assert tasks.DRAIN_WANTED_KEY not in fake_redis.keys
    assert [claimed for _kw, claimed, _last, _done in claims] == [2, 2, 1]  # then short: done
    with staff_scope():
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert tasks.drain_webhook_events()["processed"] == 0  # nothing twice


@pytest.mark.django_db
def test_a_database_error_in_the_drain_queues_another_drain_later(
    fake_redis, published, monkeypatch
):
    from django.db import OperationalError

    def fail(**kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(queue, "process_events", fail)
    assert tasks.drain_webhook_events() == {"database_error": True}
    assert published == ["drain_webhook_events"]


# --- the one statement -------------------------------------------------------------------------


def _store(secret: str, payload=OPENED):
    return ingest.store_by_secret(secret, payload)


@pytest.mark.django_db
def test_the_statement_stores_for_the_secrets_connection_and_organization(org_a):
    connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    stored = _store(secret)
    assert stored.connection_id == connection.pk and not stored.duplicate
    again = _store(secret)
    assert again.duplicate and again.event_id is None
    with tenant_scope(org_a.pk):
        [event] = WebhookEvent.objects.all()
    assert (event.pk, event.connection_id, event.status) == (
        stored.event_id,
        connection.pk,
        "pending",
    )


@pytest.mark.django_db
def test_an_unknown_secret_stores_nothing(org_a):
    make_connection("acme", organization=org_a, with_secret=True)
    assert _store("not-the-secret") is None
    with staff_scope():
        assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_statement_leaves_no_staff_scope_behind(org_a, org_b):
    """Called inside a transaction with no scope, or another organization's scope, the caller
    comes out with exactly what it had: the function's staff scope ends with the function."""
    _conn, secret = make_connection("acme", organization=org_a, with_secret=True)
    make_connection("bobs", organization=org_b, with_secret=True)
    from django.db import transaction

    with transaction.atomic():
        assert _store(secret).event_id
        [(scope,)] = bulk.execute("SELECT sb_verified_scope()")
        assert scope == ""
        assert bulk.execute("SELECT count(*) FROM instantly_webhookevent") == [(0,)]
        assert bulk.execute("SELECT count(*) FROM instantly_providerconnection") == [(0,)]
    with tenant_scope(org_b.pk):
        assert _store(secret, {**OPENED, "n": 2}).event_id
        assert bulk.execute("SELECT sb_verified_scope()") == [(f"org:{org_b.pk}",)]
        assert bulk.execute("SELECT count(*) FROM instantly_webhookevent") == [(0,)]


@pytest.mark.django_db
def test_the_app_role_cannot_store_without_the_secrets_digest(org_a):
    """A digest is all it takes, and one cannot be read without a signed scope."""
    connection, secret = make_connection("acme", organization=org_a, with_secret=True)
    assert bulk.execute(
        "SELECT count(*) FROM instantly_providerconnection WHERE webhook_secret_digest = %s",
        [secret_digest(secret)],
    ) == [(0,)]
    rows = bulk.execute(
        "SELECT * FROM sb_store_webhook_deliveries(ARRAY[%s], ARRAY['{}'], ARRAY[''], "
        "ARRAY['opened'], ARRAY['k'], ARRAY[''], ARRAY[NULL::timestamptz], ARRAY[now()], "
        "ARRAY['pending'], ARRAY[''], ARRAY[''])",
        [str(connection.pk)],  # the id is no digest
    )
    assert rows == []
    with staff_scope():
        assert WebhookEvent.objects.count() == 0
