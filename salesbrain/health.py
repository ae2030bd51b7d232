"""Is the process alive, is it ready: the checks behind `/healthz` and `/readyz`.

Liveness depends on nothing (a database outage must not get every web process restarted);
readiness asks the database, the broker, and every check an app registered with
`register_readiness_check` (the webhook processing lag). A check answers a dict with `ok` and
what an operator needs to read, never a credential or an address.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from salesbrain.celery import app

Check = Callable[[], dict]
_readiness_checks: dict[str, Check] = {}


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_broker() -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"ok": True, "mode": "eager", "detail": "no broker configured; tasks run in-process"}
    started = time.perf_counter()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "mode": "broker", "error": exc.__class__.__name__}
    return {
        "ok": True,
        "mode": "broker",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def register_readiness_check(name: str, check: Check) -> None:
    """Add a check to readiness (by name: registering again replaces it)."""
    _readiness_checks[name] = check


def readiness() -> dict[str, dict]:
    checks = {"database": check_database(), "broker": check_broker()}
    for name, check in list(_readiness_checks.items()):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001
            checks[name] = {"ok": False, "error": exc.__class__.__name__}
    return checks
