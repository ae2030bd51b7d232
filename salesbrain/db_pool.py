"""Django's psycopg connection pool for the ASGI server (settings: DB_POOL_MAX_SIZE).

Under ASGI a request may run on any thread: per-thread persistent connections piled up until
PostgreSQL ran out of slots, and a connection per request cost its setup every time. A pool per
worker process hands each request an open connection and takes it back when Django closes it.

The tenant scope (`accounts.tenancy`) is set per transaction with `set_config(..., true)`, so
it ends with the request's transaction whoever gets the connection next. A session-level
value can only come from SQL the application never sends (an injection copying its own
signed scope into the session, say): `reset_connection` clears both settings when a connection
comes back, so even that does not reach the next borrower.
"""

from __future__ import annotations

import psycopg

# The PostgreSQL settings `accounts.tenancy.apply_scope` sets and the row-level security
# policies read.
SCOPE_SETTINGS = ("app.scope", "app.scope_proof")

_RESET = "SELECT " + ", ".join(f"set_config('{name}', '', false)" for name in SCOPE_SETTINGS)


def reset_connection(connection: psycopg.Connection) -> None:
    """Run by the pool on every returned connection (idle, outside any transaction)."""
    connection.execute(_RESET)
    if not connection.autocommit:
        connection.commit()


def pool_options(*, max_size: int, min_size: int, timeout: float) -> dict:
    """`DATABASES[...]["OPTIONS"]["pool"]`: psycopg_pool.ConnectionPool's arguments."""
    return {
        "min_size": min(min_size, max_size),
        "max_size": max_size,
        # A request waits this long for a free connection, then fails (503 at the webhook
        # receiver, which the sender retries) instead of queueing without end.
        "timeout": timeout,
        "reset": reset_connection,
    }
