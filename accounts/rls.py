"""Row-level security for tenant tables (the PostgreSQL half of tenant isolation).

Every tenant table gets RLS enabled *and forced* (so even the table owner is bound) with two
permissive policies: rows of the transaction's organization, and everything in a staff scope.
Rows with `organization_id` NULL (the agency's shared workspace) match no organization, so only
staff see them. Migrations call `enable_rls(table)`.

**The scope is signed, so SQL alone cannot widen it.** A transaction's scope is the setting
`app.scope` (`org:<uuid>`, `staff` or empty) plus `app.scope_proof`, an HMAC-SHA256 of the
scope and the database session's backend pid under a key derived from SECRET_KEY. The policies
ask `sb_current_org()` / `sb_staff_bypass()`, which trust the scope only when
`sb_verified_scope()` (SECURITY DEFINER, owned by the owner role) recomputes the same proof with
the key in `salesbrain_private.scope_key`: a schema the application role cannot even look into.
An SQL injection running as the application role can set any setting it likes, but cannot sign
`staff` or another organization: it has no key, and a proof seen elsewhere names another
session. Only the owner role (migrations) and the application's Python code hold the key.

The three functions are PARALLEL RESTRICTED: PostgreSQL runs them in the query's leader only
(the policies call them as one-row subqueries, computed once and handed to parallel workers as
parameters). In a worker, `pg_backend_pid()` would be the worker's and no proof would verify;
marked UNSAFE (the default), they kept every query under RLS from running in parallel, and the
staff figures over every organization read their rows on one core.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import migrations
from psycopg import sql

CURRENT_ORG = "(SELECT sb_current_org())"
BYPASS = "(SELECT sb_staff_bypass())"
STAFF_SCOPE = "staff"
_KEY_SALT = b"salesbrain.rls.scope-key"
_BLOCK = 64  # SHA-256's block size: HMAC's key pads

# No `%` anywhere: migrations may run this through a cursor with parameters.
# Idempotent, so the first migration that enables RLS creates them on a fresh database and the
# signed-scope migration creates them on an existing one. `sb_verified_scope` pins its
# search_path and names every object by schema, so nothing the application role creates (a
# temporary function, say) can stand in for what it calls.
SCOPE_FUNCTIONS_SQL = """
    CREATE SCHEMA IF NOT EXISTS salesbrain_private;
    REVOKE ALL ON SCHEMA salesbrain_private FROM PUBLIC;
    CREATE TABLE IF NOT EXISTS salesbrain_private.scope_key (
        id integer PRIMARY KEY CHECK (id = 1),
        inner_pad bytea NOT NULL,
        outer_pad bytea NOT NULL
    );
    REVOKE ALL ON salesbrain_private.scope_key FROM PUBLIC;

    CREATE OR REPLACE FUNCTION public.sb_verified_scope() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED
        SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT CASE
            WHEN k.id IS NOT NULL AND s.proof = pg_catalog.encode(pg_catalog.sha256(
                k.outer_pad || pg_catalog.sha256(k.inner_pad || pg_catalog.convert_to(
                    s.scope || ':' || pg_catalog.pg_backend_pid()::text, 'UTF8'))), 'hex')
            THEN s.scope ELSE '' END
        FROM (SELECT coalesce(pg_catalog.current_setting('app.scope', true), '') AS scope,
                     coalesce(pg_catalog.current_setting('app.scope_proof', true), '') AS proof
             ) AS s
        LEFT JOIN salesbrain_private.scope_key AS k ON k.id = 1
    $$;

    CREATE OR REPLACE FUNCTION public.sb_current_org() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL RESTRICTED
        SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT CASE WHEN pg_catalog.left(v, 4) = 'org:' THEN pg_catalog.substr(v, 5)::uuid END
        FROM (SELECT public.sb_verified_scope() AS v) AS s
    $$;

    CREATE OR REPLACE FUNCTION public.sb_staff_bypass() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL RESTRICTED
        SET search_path = pg_catalog, pg_temp
    AS $$ SELECT public.sb_verified_scope() = 'staff' $$;
"""


def _scope_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), _KEY_SALT, hashlib.sha256).digest()


def scope_proof(scope: str, backend_pid: int) -> str:
    """The signature `sb_verified_scope()` expects for `scope` in the session `backend_pid`."""
    message = f"{scope}:{backend_pid}".encode()
    return hmac.new(_scope_key(), message, hashlib.sha256).hexdigest()


def store_scope_key(cursor) -> None:
    """Put the current key's HMAC pads where only the owner can read them (run as the owner).

    Called by the signed-scope migration and after every `migrate`, so a changed SECRET_KEY
    takes effect with the next deploy's migrate.
    """
    key = _scope_key().ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    cursor.execute(
        sql.SQL(
            "INSERT INTO salesbrain_private.scope_key (id, inner_pad, outer_pad) "
            "VALUES (1, {}, {}) ON CONFLICT (id) DO UPDATE "
            "SET inner_pad = EXCLUDED.inner_pad, outer_pad = EXCLUDED.outer_pad"
        ).format(sql.Literal(inner), sql.Literal(outer))
    )


def policies_sql(table: str, extra_read_using: str | None = None) -> str:
    """The tenant policies of `table` (the part that `rls_sql` adds after enabling RLS)."""
    sql_text = f"""
        CREATE POLICY tenant_isolation ON {table}
            USING (organization_id = {CURRENT_ORG})
            WITH CHECK (organization_id = {CURRENT_ORG});
        CREATE POLICY staff_bypass ON {table}
            USING ({BYPASS})
            WITH CHECK ({BYPASS});
    """
    if extra_read_using:
        sql_text += f"""
        CREATE POLICY tenant_read_shared ON {table} FOR SELECT
            USING ({extra_read_using});
        """
    return sql_text


def rls_sql(table: str, extra_read_using: str | None = None) -> str:
    """SQL that puts `table` under the tenant policies.

    `extra_read_using` adds a read-only policy, for rows a tenant may see without owning them
    (a shared mailbox that sends for the tenant's campaigns).
    """
    return (
        SCOPE_FUNCTIONS_SQL
        + f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
        """
        + policies_sql(table, extra_read_using)
    )


def rls_reverse_sql(table: str, extra_read_using: str | None = None) -> str:
    return f"""
        DROP POLICY IF EXISTS tenant_isolation ON {table};
        DROP POLICY IF EXISTS staff_bypass ON {table};
        DROP POLICY IF EXISTS tenant_read_shared ON {table};
        ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
        ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
    """


def enable_rls(table: str, extra_read_using: str | None = None) -> migrations.RunSQL:
    """A migration operation that puts `table` under row-level security."""
    return migrations.RunSQL(
        rls_sql(table, extra_read_using), rls_reverse_sql(table, extra_read_using)
    )
