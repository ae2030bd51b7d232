"""What the webhook benchmarks share: the environment they run Django in, and a throw-away
database created by the owner role, migrated with `manage.py migrate`, dropped at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
OWNER_URL = os.environ.get("BENCH_OWNER_URL", "postgres://root@127.0.0.1:5432/postgres")


_RUN_SECRET = "bench-only-" + uuid.uuid4().hex


def bench_environment(database_url: str, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off keeps Django from recording every query)."""
    env = dict(os.environ)
    # One key per bench run: `migrate` stores the tenant-scope key derived from it, and every
    # process of the run (this one, servers, workers) must sign its scope with the same key.
    env.setdefault("SECRET_KEY", _RUN_SECRET)
    # Required with DEBUG off; the local server trusts loopback, so the value only has to exist.
    env.setdefault("APP_DB_PASSWORD", _RUN_SECRET)
    if not env.get("SECRETS_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        env["SECRETS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "salesbrain.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback, no TLS proxy: production's HTTPS redirect stays off.
            "SECURE_SSL_REDIRECT": "0",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """Create, migrate and finally drop a database; yields its owner DATABASE_URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(OWNER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(OWNER_URL, name)
    try:
        subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=bench_environment(url),
            cwd=ROOT,
            check=True,
        )
        yield url
    finally:
        with psycopg.connect(OWNER_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    """Configure this process like the app (app role, RLS-bound) on the bench database."""
    os.environ.update(bench_environment(database_url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
