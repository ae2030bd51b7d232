"""The tenant context: which organization the current request or task acts for.

One context manager, `tenant_scope`, sets the tenant in two places that must always agree:
- a context variable read by the fail-closed `TenantManager` (Python side), and
- the PostgreSQL settings `app.scope` / `app.scope_proof`, a signed scope (see `accounts.rls`),
  set with `set_config(..., true)` inside a transaction it opens, read by the row-level
  security policies (database side).

`set_config(..., true)` lasts until the end of the transaction, so a pooled connection never
carries one request's tenant into the next. In Django's autocommit mode every statement is its
own transaction; that is why the scope always opens `transaction.atomic()` itself.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.db import connections, transaction

from .rls import STAFF_SCOPE, scope_proof


class TenantNotSet(RuntimeError):
    """A tenant-scoped query ran with no tenant context: fail closed, never return all rows."""


@dataclass(frozen=True)
class TenantContext:
    """Who the current code acts for: one organization, or staff with the bypass."""

    organization_id: uuid.UUID | None = None
    bypass: bool = False


_current: contextvars.ContextVar[TenantContext | None] = contextvars.ContextVar(
    "salesbrain_tenant", default=None
)


def current_tenant() -> TenantContext | None:
    """The active context, or None outside any scope."""
    return _current.get()


def apply_scope(
    pg_connection: psycopg.Connection,
    organization_id: uuid.UUID | None = None,
    *,
    bypass: bool = False,
) -> None:
    """Set the signed scope on a psycopg connection, for the rest of its transaction.

    Sent as bound parameters on a plain psycopg cursor (server-side binding), never as query
    text: other sessions can read query text in `pg_stat_activity`. The proof also names this
    session's backend, so a proof seen anyway is worthless elsewhere.
    """
    if bypass:
        scope = STAFF_SCOPE
    else:
        scope = f"org:{organization_id}" if organization_id else ""
    proof = scope_proof(scope, pg_connection.info.backend_pid) if scope else ""
    with psycopg.Cursor(pg_connection) as cursor:
        cursor.execute(
            "SELECT set_config('app.scope', %s, true), set_config('app.scope_proof', %s, true)",
            [scope, proof],
        )


def _apply_to_database(ctx: TenantContext | None, using: str) -> None:
    conn = connections[using]
    conn.ensure_connection()
    apply_scope(
        conn.connection,
        ctx.organization_id if ctx else None,
        bypass=bool(ctx and ctx.bypass),
    )


@contextmanager
def tenant_scope(
    organization_id: uuid.UUID | str | None = None,
    *,
    bypass: bool = False,
    using: str = "default",
) -> Iterator[TenantContext]:
    """Act for one organization (or, with `bypass=True`, as staff over every row).

    Opens a transaction (a savepoint when nested) and restores the outer context on exit, in
    Python and in PostgreSQL alike. Only server code may pass `bypass=True`: it is decided from
    the user's staff role or by a task that needs to see the shared workspace.
    """
    if organization_id is not None and not isinstance(organization_id, uuid.UUID):
        organization_id = uuid.UUID(str(organization_id))
    ctx = TenantContext(organization_id=organization_id, bypass=bypass)
    outer = _current.get()
    conn = connections[using]
    nested = conn.in_atomic_block
    token = _current.set(ctx)
    try:
        with transaction.atomic(using=using):
            _apply_to_database(ctx, using)
            try:
                yield ctx
            finally:
                if nested and not conn.needs_rollback:
                    # Released savepoints keep SET LOCAL values: put the outer ones back.
                    # (An outermost scope needs nothing: its transaction ends right here.)
                    _apply_to_database(outer, using)
    finally:
        _current.reset(token)


@contextmanager
def staff_scope(using: str = "default") -> Iterator[TenantContext]:
    """Server code that must see every organization's rows and the shared workspace."""
    with tenant_scope(bypass=True, using=using) as ctx:
        yield ctx


def staff_scope_for_migration(schema_editor) -> None:
    """Let a data migration (run as the owner, whom FORCEd RLS binds too unless superuser) see
    every row until its transaction ends: store the scope key, then sign a staff scope."""
    from .rls import store_scope_key

    with schema_editor.connection.cursor() as cursor:
        store_scope_key(cursor)
    apply_scope(schema_editor.connection.connection, bypass=True)
