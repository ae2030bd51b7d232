"""Database roles: the owner runs migrations, the application role runs everything else.

The application connects as `settings.APP_DB_USER`, which is neither superuser, nor BYPASSRLS,
nor owner of any table, so PostgreSQL row-level security binds it. Schema changes need the
owner: `as_owner()` switches a connection alias to the owner's credentials for that work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from psycopg import sql


@contextmanager
def as_owner(using: str = "default") -> Iterator[None]:
    """Run the enclosed code on `using` connected as the owner role (migrations, test set-up)."""
    conn = connections[using]
    saved = (conn.settings_dict["USER"], conn.settings_dict["PASSWORD"])
    if saved[0] == settings.DATABASE_OWNER["USER"]:
        yield
        return
    conn.close()
    conn.settings_dict["USER"] = settings.DATABASE_OWNER["USER"]
    conn.settings_dict["PASSWORD"] = settings.DATABASE_OWNER["PASSWORD"]
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict["USER"], conn.settings_dict["PASSWORD"] = saved


def ensure_app_role(cursor) -> None:
    """Create the application role if missing and make sure it cannot bypass RLS."""
    role = settings.APP_DB_USER
    cursor.execute(
        "SELECT rolsuper OR rolbypassrls OR rolcreatedb OR rolcreaterole FROM pg_roles "
        "WHERE rolname = %s",
        [role],
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(settings.APP_DB_PASSWORD)
            )
        )
    if row is None or row[0]:
        # Only when needed: roles are cluster-wide, and two databases migrating at once (test
        # workers) would otherwise collide on the same catalog row ("tuple concurrently
        # updated").
        cursor.execute(
            sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                sql.Identifier(role)
            )
        )


# Functions PUBLIC may not call, which the application role must (SECURITY DEFINER: they do
# what that role cannot do directly). Their migrations grant them too; this covers a database
# restored or migrated under another APP_DB_USER.
APP_FUNCTIONS = (
    "public.sb_store_webhook_deliveries(text[], text[], text[], text[], text[], text[], "
    "timestamptz[], timestamptz[], text[], text[], text[])",
)


def grant_app_role(cursor) -> None:
    """Give the application role data access (never ownership) to every table, now and later,
    and the right to call `APP_FUNCTIONS` (those that exist yet)."""
    role = sql.Identifier(settings.APP_DB_USER)
    for statement in (
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
    ):
        cursor.execute(sql.SQL(statement).format(role=role))
    for function in APP_FUNCTIONS:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
        if cursor.fetchone()[0]:
            cursor.execute(
                sql.SQL("GRANT EXECUTE ON FUNCTION {function} TO {role}").format(
                    function=sql.SQL(function), role=role
                )
            )
