"""The signed tenant scope under Django's psycopg connection pool (the ASGI server's,
DB_POOL_MAX_SIZE): a pooled connection never carries one request's scope into the next.

A pool of one connection makes every borrower get the same PostgreSQL session (the same
backend pid, which the scope's signature names), one after another and from other threads,
like requests of an ASGI worker. Each borrower is a thread whose `default` connection is a
pooled one on the test database (Django's test case allows no other alias).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from accounts.tenancy import apply_scope, tenant_scope
from salesbrain.db_pool import pool_options

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ("campaigns_campaign", "campaigns_contact", "messaging_message", "messaging_thread")


_pooled_settings: dict = {}


@pytest.fixture
def pooled():
    """Borrowers' connection settings: the test database, through a pool of one connection."""
    settings_dict = dict(connections["default"].settings_dict)
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["OPTIONS"] = {
        **settings_dict.get("OPTIONS", {}),
        "pool": pool_options(max_size=1, min_size=1, timeout=5.0),
    }
    _pooled_settings.update(settings_dict)
    try:
        yield
    finally:
        wrapper = connections["default"].__class__(dict(_pooled_settings), alias="default")
        wrapper.close_pool()  # the class keeps pools by alias: close ours, leave none behind
        _pooled_settings.clear()


def in_another_thread(function):
    """Run `function` on a fresh thread whose `default` connection is a pooled one, like the
    next request of an ASGI worker; its connection goes back to the pool when it ends."""
    result: dict = {}

    def run():
        connections["default"] = connections["default"].__class__(
            dict(_pooled_settings), alias="default"
        )
        try:
            result["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            result["error"] = exc
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in result:
        raise result["error"]
    return result["value"]


def session() -> dict:
    """What the borrowed session is and sees, outside any scope (autocommit)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid(), current_setting('app.scope', true), "
            "current_setting('app.scope_proof', true)"
        )
        pid, scope, proof = cursor.fetchone()
        seen = set()
        for table in TABLES:
            cursor.execute(f"SELECT DISTINCT organization_id FROM {table}")  # noqa: S608
            seen |= {str(row[0]) for row in cursor.fetchall()}
    return {"pid": pid, "scope": scope or "", "proof": proof or "", "seen": seen}


def seen_in_scope(organization_id) -> dict:
    with tenant_scope(organization_id):
        return session()


def test_each_borrower_sees_only_its_own_scope_on_the_same_session(
    pooled, tenant_rows, org_a, org_b
):
    a = in_another_thread(lambda: seen_in_scope(org_a.pk))
    after_a = in_another_thread(session)
    b = in_another_thread(lambda: seen_in_scope(org_b.pk))
    after_b = in_another_thread(session)

    assert a["pid"] == after_a["pid"] == b["pid"] == after_b["pid"]  # one pooled session
    assert a["seen"] == {str(org_a.pk)} and b["seen"] == {str(org_b.pk)}  # not vacuous
    for after in (after_a, after_b):
        assert after["scope"] == after["proof"] == ""
        assert after["seen"] == set()  # fail closed: no scope, no rows


def test_a_scope_left_in_an_open_transaction_does_not_reach_the_next_borrower(
    pooled, tenant_rows, org_a
):
    def leave_open():
        wrapper = connections["default"]
        wrapper.ensure_connection()
        raw = wrapper.connection
        raw.execute("BEGIN")
        apply_scope(raw, org_a.pk)
        # Handed back with the transaction open (a request that died mid-way).
        return raw.info.backend_pid

    pid = in_another_thread(leave_open)
    after = in_another_thread(session)
    assert after["pid"] == pid
    assert after["scope"] == "" and after["seen"] == set()


def test_a_scope_copied_into_the_session_is_cleared_when_the_connection_comes_back(
    pooled, tenant_rows, org_a
):
    """SQL the application never sends (an injection) copies its signed, transaction-local
    scope into session-level settings: valid for this backend, it would outlive the request.
    The pool's reset clears it before anyone else borrows the connection."""

    def copy_scope_into_session():
        with tenant_scope(org_a.pk), connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT set_config('app.scope', current_setting('app.scope'), false), "
                "set_config('app.scope_proof', current_setting('app.scope_proof'), false)"
            )
        with transaction.atomic():  # not vacuous: it would work in this request
            carried = session()
        return carried

    carried = in_another_thread(copy_scope_into_session)
    assert carried["seen"] == {str(org_a.pk)}
    after = in_another_thread(session)
    assert after["pid"] == carried["pid"]
    assert after["scope"] == "" and after["seen"] == set()
