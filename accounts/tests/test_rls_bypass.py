"""The staff bypass cannot be switched on by SQL alone (issue 10, finding 7).

Connected as the application role inside alice's organization scope, as an SQL injection would
be, every way we know to widen what the session sees is tried; after each, the session still
sees its own organization's rows and nothing else. The scope is a value signed with a key the
application role cannot read (see `accounts.rls`), bound to the database session.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from accounts.rls import scope_proof
from accounts.tenancy import apply_scope, tenant_scope

pytestmark = pytest.mark.django_db

TABLES = ("campaigns_campaign", "campaigns_contact", "messaging_message", "messaging_thread")


def visible_orgs() -> set[str | None]:
    seen = set()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT DISTINCT organization_id FROM {table}")  # noqa: S608
            seen |= {str(row[0]) if row[0] else None for row in cursor.fetchall()}
    return seen


def attacks(org_b) -> list[str]:
    owner = settings.DATABASE_OWNER["USER"]
    return [
        # The old switch, and its spellings.
        "SELECT set_config('app.bypass_rls', 'on', true)",
        "SELECT set_config('app.bypass_rls', 'on', false)",
        "SET LOCAL app.bypass_rls = 'on'",
        # Another organization, by the old setting and by the new one (unsigned).
        f"SELECT set_config('app.current_org', '{org_b.pk}', true)",
        f"SELECT set_config('app.scope', 'org:{org_b.pk}', true)",
        # Claim staff, keeping our own valid signature, or with guessed ones.
        "SELECT set_config('app.scope', 'staff', true)",
        "SELECT set_config('app.scope_proof', encode(sha256('staff'), 'hex'), true), "
        "set_config('app.scope', 'staff', true)",
        "SELECT set_config('app.scope_proof', '', true), set_config('app.scope', 'staff', true)",
        # Ownership, roles and policies: all the owner's.
        f"SET ROLE {owner}",
        f"SET SESSION AUTHORIZATION {owner}",
        "ALTER ROLE CURRENT_USER BYPASSRLS",
        "ALTER TABLE campaigns_campaign DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE campaigns_campaign NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON campaigns_campaign",
        "ALTER POLICY staff_bypass ON campaigns_campaign USING (true)",
        "CREATE POLICY open_door ON campaigns_campaign USING (true)",
        "CREATE OR REPLACE FUNCTION sb_staff_bypass() RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        "ALTER FUNCTION sb_verified_scope() SECURITY INVOKER",
        "CREATE FUNCTION pg_temp.sb_staff_bypass() RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        "SET LOCAL search_path = pg_temp, public",
        # The key itself, and its table.
        "SELECT * FROM salesbrain_private.scope_key",
        "UPDATE salesbrain_private.scope_key SET inner_pad = '', outer_pad = ''",
        "SET LOCAL row_security = off",
    ]


def test_every_sql_way_to_widen_the_scope_fails(tenant_rows, org_a, org_b):
    with tenant_scope(org_a.pk):
        assert visible_orgs() == {str(org_a.pk)}  # the scope works: not vacuous
        for statement in attacks(org_b):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(statement)
                    seen = visible_orgs()
            except DatabaseError:
                seen = set()  # refused outright
            assert seen <= {str(org_a.pk)}, statement


def test_a_signature_seen_in_another_session_does_not_work_here(tenant_rows, org_a):
    """Proofs travel as bound parameters (never in query text) and name their session."""
    params = settings.DATABASES["default"]
    other = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=connection.settings_dict["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
    )
    try:
        apply_scope(other, bypass=True)  # a staff request's transaction, left open
        with tenant_scope(org_a.pk), connection.cursor() as cursor:
            cursor.execute(
                "SELECT query FROM pg_stat_activity WHERE pid = %s", [other.info.backend_pid]
            )
            seen_text = cursor.fetchone()[0]
            assert "staff" not in seen_text
            candidates = set(re.findall(r"[0-9a-f]{64}", seen_text))
            # Even the real staff proof of that session is useless in this one.
            candidates.add(scope_proof("staff", other.info.backend_pid))
            for proof in candidates:
                with transaction.atomic():
                    cursor.execute(
                        "SELECT set_config('app.scope', 'staff', true), "
                        "set_config('app.scope_proof', %s, true)",
                        [proof],
                    )
                    assert visible_orgs() <= {str(org_a.pk)}
    finally:
        other.close()


def test_the_application_role_cannot_read_the_scope_key():
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_schema_privilege(current_user, 'salesbrain_private', 'USAGE')")
        assert cursor.fetchone() == (False,)
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cursor.execute("SELECT inner_pad FROM salesbrain_private.scope_key")


FORCE_PARALLEL = (
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
    "SET LOCAL min_parallel_table_scan_size = 0",
    "SET LOCAL max_parallel_workers_per_gather = 2",
    # Even a tiny table is read by a worker (the setting's name before PostgreSQL 16).
    "SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000 "
    "THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', true)",
)


def _scope(scope, org_a):
    from accounts.tenancy import staff_scope

    if scope == "alice":
        return tenant_scope(org_a.pk)
    if scope == "staff":
        return staff_scope()
    return transaction.atomic()  # no scope at all


def _counts(parallel: bool) -> tuple[dict, str]:
    with connection.cursor() as cursor:
        if parallel:
            for statement in FORCE_PARALLEL:
                cursor.execute(statement)
        rows = {}
        for table in TABLES:
            cursor.execute(f"SELECT organization_id, count(*) FROM {table} GROUP BY 1")  # noqa: S608
            rows[table] = {str(org): n for org, n in cursor.fetchall()}
        cursor.execute(f"EXPLAIN SELECT count(*) FROM {TABLES[0]}")  # noqa: S608
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return rows, plan


@pytest.mark.parametrize("scope", ["alice", "staff", "none"])
def test_parallel_workers_see_exactly_what_the_leader_would(tenant_rows, org_a, org_b, scope):
    """The scope functions are PARALLEL RESTRICTED (accounts.rls), so queries under RLS may
    be read by parallel workers: such a plan returns exactly the rows a serial plan does, for
    an organization, for staff and for no scope (none). Marked UNSAFE, there is no Gather."""
    with _scope(scope, org_a):
        serial, _plan = _counts(parallel=False)
    with _scope(scope, org_a):
        parallel, plan = _counts(parallel=True)
    assert "Gather" in plan  # the plan really is parallel
    assert parallel == serial
    orgs = {org for rows in serial.values() for org in rows}
    if scope == "alice":
        assert orgs == {str(org_a.pk)}
    elif scope == "none":
        assert orgs == set()
    else:
        assert {str(org_a.pk), str(org_b.pk)} <= orgs
