"""What the webhook benchmarks share: the environment they run Django in, and a throw-away
database created by the owner role, migrated with `manage.py migrate`, dropped at the end."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
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


def bench_environment(database_url: str, root: Path = ROOT, **extra: str) -> dict[str, str]:
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
            "PYTHONPATH": str(root),
            **extra,
        }
    )
    return env


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def throwaway_database(prefix: str, root: Path = ROOT) -> Iterator[str]:
    """Create, migrate (with `root`'s code) and finally drop a database; yields its owner
    DATABASE_URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(OWNER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(OWNER_URL, name)
    try:
        subprocess.run(
            [PYTHON, str(root / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=bench_environment(url, root),
            cwd=root,
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


def start_web_and_worker(
    web_args: list[str], port: int, web_env: dict[str, str], worker_env: dict[str, str], root: Path
) -> tuple[subprocess.Popen, subprocess.Popen]:
    """Start gunicorn (`web_args` after the executable) and a Celery worker (concurrency 2) from
    `root`, and wait until the web server answers /healthz on `port`."""
    bin_dir = ROOT / ".venv" / "bin"
    web = subprocess.Popen([str(bin_dir / "gunicorn"), *web_args], cwd=root, env=web_env)
    worker = subprocess.Popen(
        [str(bin_dir / "celery"), "-A", "salesbrain", "worker", "--concurrency=2",
         "--loglevel=WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=root, env=worker_env,
    )  # fmt: skip
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return web, worker
        except urllib.error.HTTPError:
            return web, worker
        except OSError:
            time.sleep(0.3)
    web.kill()
    worker.kill()
    raise SystemExit("gunicorn did not start")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, to print beside every figure (shared machine)."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


SECRET_HEADER = "X-Salesbrain-Webhook-Secret"


async def post_delivery(port: int, secret: str, payload: dict) -> int:
    """POST one delivery to the receiver on a fresh connection; answers the HTTP status."""
    body = json.dumps(payload).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "POST /webhooks/instantly/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\n{SECRET_HEADER}: {secret}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        + body
    )
    await writer.drain()
    status = await reader.readline()
    writer.close()
    return int(status.split()[1]) if status else 0


def bench_connection():
    """(connection, webhook secret): the shared Instantly connection the webhook benches post
    deliveries for (Django set up)."""
    from accounts.tenancy import staff_scope
    from instantly.models import ProviderConnection

    with staff_scope():
        connection = ProviderConnection(name="Bench", is_shared=True, workspace_id="ws-bench")
        connection.api_key = "bench-key-0000"
        secret = connection.set_new_webhook_secret()
        connection.save()
    return connection, secret


PREFILL_CONNECTION = "00000000-0000-4000-8000-00000000f111"


def prefill_webhook_events(database_url: str, rows: int) -> float:
    """Put `rows` processed deliveries in `instantly_webhookevent` (one generate_series
    statement as the owner, then VACUUM ANALYZE), for one connection of its own: the table a
    long-running installation has. Answers the seconds it took."""
    if rows <= 0:
        return 0.0
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO instantly_providerconnection (id, name, is_shared, api_key_encrypted, "
            "api_key_v1_encrypted, api_key_last4, workspace_id, workspace_name, "
            "webhook_secret_encrypted, webhook_secret_digest, webhook_subscription_id, "
            "webhook_subscription_state, status, last_error, created_at, updated_at) VALUES "
            "('00000000-0000-4000-8000-00000000f111', 'Prefill', false, 'x', '', '', 'ws-old', "
            "'', 'x', md5('prefill') || md5('prefill'), '', 'unknown', 'active', '', now(), now())"
        )
        conn.execute(
            "INSERT INTO instantly_webhookevent (organization_id, connection_id, payload, "
            "event_type_raw, event_type, dedupe_key, campaign_instantly_id, occurred_at, "
            "received_at, request_id, status, attempts, claimed_at, processed_at, last_error) "
            "SELECT NULL, '00000000-0000-4000-8000-00000000f111', "
            "jsonb_build_object('event_type', 'email_opened', 'n', i), 'email_opened', "
            "'email_opened', k, '', now() - interval '100 days', "
            "now() - interval '100 days' + i * interval '1 second' / 2, '', 'processed', 1, "
            "now() - interval '100 days', now() - interval '100 days', '' "
            # In key order: the unique index is filled from left to right instead of at
            # random (several times faster to load; the keys themselves are as random).
            "FROM (SELECT i, md5(i::text) || md5((-i)::text) AS k "
            "      FROM generate_series(1, %s) AS i ORDER BY k) AS rows",
            [rows],
        )
        conn.execute("VACUUM ANALYZE instantly_webhookevent")
    return time.monotonic() - started
