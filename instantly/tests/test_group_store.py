"""The receiver's group commit (`instantly.webhooks.group_store`): deliveries that arrive while a
group is being written are stored together by the next statement, each answered with its own
row; one the database refuses fails alone; the writer's own connection survives a restart."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest
from prometheus_client import REGISTRY

from accounts.tenancy import staff_scope, tenant_scope
from instantly.models import WebhookEvent
from instantly.tests.test_webhook_drain import OPENED
from instantly.webhooks import group_store, ingest
from salesbrain import bulk
from testkit import make_connection


def row_for(secret: str, payload: dict, *, raw_payload: str | None = None):
    row = ingest.delivery_row(secret, payload, request_id="req-1")
    return row if raw_payload is None else row._replace(payload=raw_payload)


def delivery(n: int) -> dict:
    return {**OPENED, "lead_email": f"lead{n}@example.com"}


# --- one statement, many deliveries ------------------------------------------------------------


@pytest.mark.django_db
def test_one_statement_answers_each_delivery_with_its_own_connection_and_row(org_a, org_b):
    acme, acme_secret = make_connection("acme", organization=org_a, with_secret=True)
    bobs, bobs_secret = make_connection("bobs", organization=org_b, with_secret=True)
    rows = [
        row_for(acme_secret, delivery(1)),
        row_for("nobody-has-this-secret", delivery(2)),
        row_for(bobs_secret, delivery(3)),
        row_for(acme_secret, delivery(4)),
    ]
    first, stranger, bob, last = group_store.write_rows(bulk.execute, rows)
    assert stranger is None
    assert (first.connection_id, first.organization_id) == (acme.pk, org_a.pk)
    assert (bob.connection_id, bob.organization_id) == (bobs.pk, org_b.pk)
    assert (last.connection_id, last.organization_id) == (acme.pk, org_a.pk)
    assert len({first.event_id, bob.event_id, last.event_id}) == 3
    with tenant_scope(org_a.pk):
        stored = dict(WebhookEvent.objects.values_list("id", "payload__lead_email"))
    assert stored == {first.event_id: "lead1@example.com", last.event_id: "lead4@example.com"}
    with tenant_scope(org_b.pk):
        assert list(WebhookEvent.objects.values_list("id", flat=True)) == [bob.event_id]


@pytest.mark.django_db
def test_a_delivery_twice_in_one_statement_is_stored_once_the_second_a_duplicate(org_a):
    _conn, secret = make_connection("acme", organization=org_a, with_secret=True)
    reordered = dict(reversed(list(delivery(1).items())))  # the same delivery, keys reordered
    original, retry = group_store.write_rows(
        bulk.execute, [row_for(secret, delivery(1)), row_for(secret, reordered)]
    )
    assert original.event_id is not None and retry.event_id is None
    assert retry.connection_id == original.connection_id
    with staff_scope():
        assert WebhookEvent.objects.count() == 1


# --- the group writer ------------------------------------------------------------------------


class HeldFirstWrite:
    """An executor whose first statement waits until `waiting` more deliveries are queued, so
    they form the next group; records each statement's group size."""

    def __init__(self, writer: group_store.GroupWriter, execute, waiting: int):
        self.writer, self.execute, self.waiting = writer, execute, waiting
        self.sizes: list[int] = []

    def __call__(self, sql, params):
        self.sizes.append(len(params[0]))
        if len(self.sizes) == 1:
            deadline = time.monotonic() + 10
            while len(self.writer._queue) < self.waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        return self.execute(sql, params)


def store_concurrently(writer, rows) -> list:
    """Store each row from its own thread; answer each thread's result or exception."""
    results: list = [None] * len(rows)

    def store(index, row):
        try:
            results[index] = writer.store(row)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc

    threads = [
        threading.Thread(target=store, args=(i, row), daemon=True) for i, row in enumerate(rows)
    ]
    threads[0].start()
    time.sleep(0.05)  # the first delivery leads the first group alone
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads), "a delivery was never answered"
    return results


def group_size_samples() -> tuple[float, float]:
    """`salesbrain_webhook_store_group_size`'s count (statements) and sum (deliveries)."""
    name = "salesbrain_webhook_store_group_size"
    return tuple(REGISTRY.get_sample_value(f"{name}_{part}") or 0.0 for part in ("count", "sum"))


@pytest.mark.django_db(transaction=True)
def test_deliveries_arriving_during_a_write_share_the_next_statement(org_a, settings):
    settings.INSTANTLY_WEBHOOK_OWN_CONNECTION = True
    _conn, secret = make_connection("acme", organization=org_a, with_secret=True)
    writer = group_store.GroupWriter(lambda: executor)
    executor = HeldFirstWrite(writer, group_store.own_connection.execute, waiting=7)
    statements, stored_by_them = group_size_samples()
    try:
        results = store_concurrently(writer, [row_for(secret, delivery(n)) for n in range(8)])
    finally:
        group_store.own_connection.close()
    assert executor.sizes == [1, 7]
    assert group_size_samples() == (statements + 2, stored_by_them + 8)  # the metric says so
    assert all(isinstance(r, group_store.Written) and r.event_id for r in results)
    with staff_scope():
        stored = dict(WebhookEvent.objects.values_list("id", "payload__lead_email"))
    assert stored == {r.event_id: f"lead{n}@example.com" for n, r in enumerate(results)}


@pytest.mark.django_db(transaction=True)
def test_a_delivery_the_database_refuses_fails_alone(org_a, settings):
    """A group's statement fails as a whole; its deliveries are then written one by one, so
    only the refused one fails (503, Instantly sends it again)."""
    settings.INSTANTLY_WEBHOOK_OWN_CONNECTION = True
    _conn, secret = make_connection("acme", organization=org_a, with_secret=True)
    writer = group_store.GroupWriter(lambda: executor)
    executor = HeldFirstWrite(writer, group_store.own_connection.execute, waiting=3)
    rows = [row_for(secret, delivery(n)) for n in range(4)]
    rows[2] = row_for(secret, delivery(2), raw_payload="{not json")  # cannot be cast to jsonb
    try:
        results = store_concurrently(writer, rows)
    finally:
        group_store.own_connection.close()
    assert executor.sizes == [1, 3, 1, 1, 1]
    assert isinstance(results[2], group_store.StoreFailed)
    assert isinstance(results[2].__cause__, psycopg.errors.InvalidTextRepresentation)
    stored = [r.event_id for i, r in enumerate(results) if i != 2]
    assert all(stored)
    with staff_scope():
        assert sorted(WebhookEvent.objects.values_list("id", flat=True)) == sorted(stored)


class FailingGroups(HeldFirstWrite):
    """The first statement succeeds (a group of one, held); every later one raises `error`."""

    def __init__(self, writer, waiting: int, error: Exception):
        super().__init__(writer, lambda sql, params: [(1, "conn", "org", 1)], waiting)
        self.error = error

    def __call__(self, sql, params):
        answer = super().__call__(sql, params)
        if len(self.sizes) > 1:
            raise self.error
        return answer


@pytest.mark.parametrize(
    ("error", "sizes"),
    [
        # A bug of ours, or one delivery the database refuses: the group is tried one by one.
        (RuntimeError("a bug"), [1, 3, 1, 1, 1]),
        # The database is unreachable or gave up waiting: one try, the whole group fails.
        (psycopg.OperationalError("server closed the connection"), [1, 3]),
    ],
)
def test_a_group_that_fails_answers_every_delivery_with_an_error_never_as_unknown(error, sizes):
    """No delivery may come back as None ('no connection has this secret', a 401)."""
    writer = group_store.GroupWriter(lambda: executor)
    executor = FailingGroups(writer, waiting=3, error=error)
    results = store_concurrently(writer, [row_for("s", delivery(n)) for n in range(4)])
    assert executor.sizes == sizes
    assert isinstance(results[0], group_store.Written)
    assert all(isinstance(r, group_store.StoreFailed) for r in results[1:])
    assert all(r.__cause__ is error for r in results[1:])
    assert writer._writing is False and writer._queue == []


def test_a_fault_outside_the_statement_is_a_store_failure_too():
    def broken_executor():
        raise RuntimeError("a bug")

    writer = group_store.GroupWriter(broken_executor)
    with pytest.raises(group_store.StoreFailed) as failed:
        writer.store(row_for("s", delivery(1)))
    assert isinstance(failed.value.__cause__, RuntimeError)
    assert writer._writing is False and writer._queue == []


# --- the writer's own connection ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_own_connection_is_opened_again_after_the_database_closed_it(org_a, settings):
    settings.INSTANTLY_WEBHOOK_OWN_CONNECTION = True
    _conn, secret = make_connection("acme", organization=org_a, with_secret=True)
    own = group_store.OwnConnection()
    writer = group_store.GroupWriter(lambda: own.execute)
    try:
        assert writer.store(row_for(secret, delivery(1))).event_id
        [(pid,)] = own.execute("SELECT pg_backend_pid()", [])
        # The owner role may end the application role's backend (a restart, as seen by it).
        with psycopg.connect(**_owner_params(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        second = writer.store(row_for(secret, delivery(2)))
        assert second.event_id
        [(new_pid,)] = own.execute("SELECT pg_backend_pid()", [])
        assert new_pid != pid
    finally:
        own.close()
    with staff_scope():
        assert WebhookEvent.objects.count() == 2


def _owner_params() -> dict:
    from django.conf import settings
    from django.db import connections

    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params["user"] = settings.DATABASE_OWNER["USER"]
    if settings.DATABASE_OWNER["PASSWORD"]:
        params["password"] = settings.DATABASE_OWNER["PASSWORD"]
    return params


@pytest.mark.django_db(transaction=True)
def test_the_receiver_answers_after_its_own_connection_committed(
    client, org_a, settings, monkeypatch
):
    """Production's path: the row is committed on the writer's connection when the answer
    goes out (another connection sees it), and processing is woken straight away."""
    settings.INSTANTLY_WEBHOOK_OWN_CONNECTION = True
    _conn, secret = make_connection("acme", organization=org_a, with_secret=True)
    woken = []
    from instantly.webhooks import views

    monkeypatch.setattr(views, "enqueue_event", woken.append)
    statements = []
    monkeypatch.setattr(group_store.bulk, "execute", statements.append)  # the request's own
    try:
        response = client.post(
            settings.INSTANTLY_WEBHOOK_PATH,
            data=json.dumps(delivery(1)),
            content_type="application/json",
            headers={"X-Salesbrain-Webhook-Secret": secret},
        )
    finally:
        group_store.own_connection.close()
    assert statements == []  # stored on the writer's connection, not the request's
    with staff_scope():
        assert WebhookEvent.objects.filter(request_id=response["X-Request-ID"]).exists()
    assert response.status_code == 200
    event_id = response.json()["id"]
    assert woken == [event_id]
    with staff_scope():
        assert WebhookEvent.objects.filter(pk=event_id, status="pending").exists()


@pytest.mark.django_db(transaction=True)
def test_granting_the_app_role_lets_it_call_the_receivers_function():
    """After a restore under another APP_DB_USER, say: `grant_app_role` (after every migrate,
    and by `restore`) gives back what the migration granted."""
    from django.conf import settings

    from accounts.db import APP_FUNCTIONS, grant_app_role

    [function] = APP_FUNCTIONS
    role = psycopg.sql.Identifier(settings.APP_DB_USER)
    query = "SELECT has_function_privilege(%s, %s, 'EXECUTE')"
    with psycopg.connect(**_owner_params(), autocommit=True) as owner:
        revoke = psycopg.sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM {}")
        owner.execute(revoke.format(psycopg.sql.SQL(function), role))
        try:
            assert owner.execute(query, [settings.APP_DB_USER, function]).fetchone() == (False,)
            with owner.cursor() as cursor:
                grant_app_role(cursor)
        finally:
            grant = psycopg.sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}")
            allowed = owner.execute(query, [settings.APP_DB_USER, function]).fetchone()
            owner.execute(grant.format(psycopg.sql.SQL(function), role))
    assert allowed == (True,)
