"""Connections to Instantly workspaces: the shared one from the environment, a client for each,
and the status bookkeeping every caller (sync, checks, commands) shares.

API keys are decrypted only to build a client; they never go into a log line, an exception, a
repr or `last_error` (`redact` scrubs any text that is stored or shown).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.client import InstantlyClient
from instantly.errors import (
    InstantlyAuthenticationError,
    InstantlyConnectionError,
    InstantlyError,
    InstantlyMissingScopeError,
    InstantlyNotFoundError,
    InstantlyPaymentRequiredError,
    InstantlyRateLimitedError,
    InstantlyServerError,
    InstantlyUnexpectedResponseError,
    InstantlyValidationError,
)
from instantly.limiter import RateLimit, RateLimiter, limiter_from_url
from instantly.models import Alert, ProviderConnection
from salesbrain import metrics

logger = logging.getLogger(__name__)

SHARED_CONNECTION_NAME = "Agency workspace"

# 90 % of Instantly's 100 requests/s and 6,000/min. Our limiter counts a request when it leaves
# and Instantly when it arrives, so in any second Instantly may also count requests that were
# already in flight: the margin must cover them (see instantly.sync.run.DEFAULT_CONCURRENCY).
CLIENT_RATE_LIMITS = (RateLimit(90, 1.0), RateLimit(5400, 60.0))

# What staff read when a call fails, per error class (most specific first).
ERROR_EXPLANATIONS: tuple[tuple[type[InstantlyError], str], ...] = (
    (
        InstantlyAuthenticationError,
        "The API key was refused (invalid or revoked): paste a current key from Instantly's "
        "Settings > Integrations > API keys.",
    ),
    (
        InstantlyPaymentRequiredError,
        "Instantly answered 402: the workspace has no active paid plan, and the API needs one.",
    ),
    (
        InstantlyMissingScopeError,
        "The API key lacks a scope this call needs: create a key with all:read (or all:all to "
        "register webhooks and add leads).",
    ),
    (
        InstantlyRateLimitedError,
        "Instantly is rate limiting this workspace (429): another integration may be using the "
        "budget; the next run will try again.",
    ),
    (
        InstantlyServerError,
        "Instantly answered with a server error (5xx): usually temporary, try again later.",
    ),
    (
        InstantlyConnectionError,
        "Instantly could not be reached (network, DNS or timeout): check the server's "
        "connectivity and INSTANTLY_API_BASE_URL.",
    ),
    (InstantlyNotFoundError, "Instantly answered 404 for a call that should exist."),
    (InstantlyValidationError, "Instantly refused the request as invalid (400)."),
    (InstantlyUnexpectedResponseError, "Instantly answered something that is not its API's JSON."),
)


def explain_error(exc: BaseException) -> str:
    """A clear sentence for staff about what failed, with the server's own words after it."""
    for error_class, explanation in ERROR_EXPLANATIONS:
        if isinstance(exc, error_class):
            return f"{explanation} ({exc})"
    return f"{type(exc).__name__}: {exc}"


def redact(text: str, connection: ProviderConnection) -> str:
    """`text` with the connection's keys and webhook secret replaced by ***."""
    for secret in _secrets_of(connection):
        text = text.replace(secret, "***")
    return text


def _secrets_of(connection: ProviderConnection) -> list[str]:
    secrets = []
    for name in ("api_key", "api_key_v1", "webhook_secret"):
        try:
            value = getattr(connection, name)
        except ImproperlyConfigured:  # an undecryptable secret cannot leak either
            value = ""
        if value and len(value) >= 6:
            secrets.append(value)
    return secrets


def mask_key(key: str) -> str:
    """A key as staff may see it: its last four characters only."""
    return f"***{key[-4:]}" if key else "(none)"


# --- the shared workspace ---------------------------------------------------------------------


def ensure_shared_connection() -> ProviderConnection | None:
    """Create or update the agency's shared connection from INSTANTLY_API_KEY(_V1).

    Called by the sync entry points and the commands, never at import or start-up (the database
    may not exist yet). Returns None when INSTANTLY_API_KEY is unset. A key that did not change
    is not re-encrypted (Fernet tokens differ on every encryption), so this is a no-op write-wise.
    An unset INSTANTLY_API_KEY_V1 leaves a v1 key entered in the admin alone.
    """
    api_key = settings.INSTANTLY_API_KEY
    if not api_key:
        return None
    api_key_v1 = settings.INSTANTLY_API_KEY_V1
    try:
        with staff_scope():
            return _upsert_shared(api_key, api_key_v1)
    except IntegrityError:
        # Another process created it between our read and our insert: update that one.
        with staff_scope():
            return _upsert_shared(api_key, api_key_v1)


def _upsert_shared(api_key: str, api_key_v1: str) -> ProviderConnection:
    connection = (
        ProviderConnection.objects.unscoped().select_for_update().filter(is_shared=True).first()
    )
    if connection is None:
        connection = ProviderConnection(name=SHARED_CONNECTION_NAME, is_shared=True)
        connection.api_key = api_key
        if api_key_v1:
            connection.api_key_v1 = api_key_v1
        connection.save()
        logger.info("created the shared Instantly connection %s", connection.pk)
        return connection
    changed = []
    if connection.api_key != api_key:
        connection.api_key = api_key
        changed += ["api_key_encrypted", "api_key_last4"]
        if connection.status == ProviderConnection.Status.ERROR:
            # A new key deserves a fresh start; the next sync or check sets it again if needed.
            connection.status = ProviderConnection.Status.ACTIVE
            connection.last_error = ""
            changed += ["status", "last_error"]
    if api_key_v1 and connection.api_key_v1 != api_key_v1:
        connection.api_key_v1 = api_key_v1
        changed.append("api_key_v1_encrypted")
    if changed:
        connection.save(update_fields=[*changed, "updated_at"])
        logger.info(
            "updated the shared Instantly connection %s from the environment", connection.pk
        )
    return connection


# --- clients ----------------------------------------------------------------------------------


def _limiter_url() -> str | None:
    """The Redis URL that lets every worker share one request budget, if there is one."""
    for url in (settings.CELERY_BROKER_URL, settings.REDIS_URL):
        if url and url.split(":", 1)[0] in ("redis", "rediss", "unix"):
            return url
    return None


def shared_limiter(limits: tuple[RateLimit, ...]) -> RateLimiter:
    """A limiter for `limits` whose budget every worker shares (Redis), or this process's own
    when there is no Redis."""
    return limiter_from_url(_limiter_url(), limits)


# Where clients made inside `served_by()` send their requests (None: INSTANTLY_API_BASE_URL).
_served_by: ContextVar[str | None] = ContextVar("instantly_served_by", default=None)


@contextmanager
def served_by(base_url: str) -> Iterator[None]:
    """Every client made inside talks to `base_url` (the demo's sandbox), including those of
    services that build their own (the reply sender), so they run unchanged against it."""
    token = _served_by.set(base_url)
    try:
        yield
    finally:
        _served_by.reset(token)


def client_for(connection: ProviderConnection, **options: Any) -> InstantlyClient:
    """An API client for `connection`, sharing the workspace's rate budget with every caller.

    `options` go to InstantlyClient (tests pass `sleeper=`, `session=`, ...). The budget is keyed
    by the Instantly workspace id (several keys of one workspace share it), or by the
    connection until the first sync has learnt the workspace id.
    """
    options.setdefault("base_url", _served_by.get() or settings.INSTANTLY_API_BASE_URL)
    options.setdefault("limiter", shared_limiter(CLIENT_RATE_LIMITS))
    options.setdefault("workspace_key", connection.workspace_id or f"connection-{connection.pk}")
    options.setdefault("on_answer", count_answer)
    return InstantlyClient(connection.api_key, **options)


def count_answer(endpoint: str, status: str) -> None:
    """`salesbrain_instantly_requests_total{endpoint,status}`: every answer, 429s included."""
    metrics.INSTANTLY_REQUESTS.labels(endpoint, status).inc()


@contextmanager
def using_client(
    connection: ProviderConnection, client: InstantlyClient | None = None
) -> Iterator[InstantlyClient]:
    """The given client as is (tests inject one), or a fresh one closed afterwards."""
    if client is not None:
        yield client
        return
    client = client_for(connection)
    try:
        yield client
    finally:
        client.close()


# --- status bookkeeping -----------------------------------------------------------------------


def record_success(connection: ProviderConnection, *, synced: bool = False) -> None:
    """The connection answered: clear its error (a DISABLED connection stays disabled)."""
    fields = []
    if connection.status == ProviderConnection.Status.ERROR:
        connection.status = ProviderConnection.Status.ACTIVE
        fields.append("status")
    if connection.last_error:
        connection.last_error = ""
        fields.append("last_error")
    if synced:
        connection.last_synced_at = timezone.now()
        fields.append("last_synced_at")
    with staff_scope():
        if fields:
            ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
                **{name: getattr(connection, name) for name in fields},
                updated_at=timezone.now(),
            )
        Alert.objects.unscoped().filter(
            connection=connection,
            kind=Alert.Kind.CONNECTION_ERROR,
            resolved_at__isnull=True,
        ).update(resolved_at=timezone.now())


def record_failure(connection: ProviderConnection, exc: BaseException) -> str:
    """Put the connection in ERROR with a human `last_error`, raise one open alert for staff,
    and return the message. Secrets are scrubbed from everything stored."""
    message = redact(explain_error(exc), connection)[:2000]
    connection.status = (
        connection.status
        if connection.status == ProviderConnection.Status.DISABLED
        else ProviderConnection.Status.ERROR
    )
    connection.last_error = message
    with staff_scope():
        ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
            status=connection.status, last_error=message, updated_at=timezone.now()
        )
        alert = Alert.objects.unscoped().filter(
            connection=connection, kind=Alert.Kind.CONNECTION_ERROR, resolved_at__isnull=True
        )
        if alert.exists():
            alert.update(message=message)
        else:
            Alert.objects.unscoped().create(
                organization_id=connection.organization_id,
                connection=connection,
                kind=Alert.Kind.CONNECTION_ERROR,
                severity=Alert.Severity.CRITICAL,
                title=f"Instantly connection failing: {connection.name}"[:300],
                message=message,
            )
    logger.warning("Instantly connection %s failed: %s", connection.pk, message)
    return message


# --- choosing connections (commands) ----------------------------------------------------------


def find_connections(selector: str | None = None, *, include_disabled: bool = False):
    """Connections a command works on: the one whose id or name is `selector`, else all
    (DISABLED ones only on request). The shared connection is refreshed from the environment
    first. Raises ProviderConnection.DoesNotExist for a selector that matches nothing."""
    ensure_shared_connection()
    with staff_scope():
        connections = ProviderConnection.objects.unscoped().order_by("-is_shared", "name")
        if selector:
            by_name = connections.filter(name=selector)
            matches = list(by_name) or list(
                connections.filter(pk=selector) if _is_uuid(selector) else []
            )
            if not matches:
                raise ProviderConnection.DoesNotExist(f"no Instantly connection {selector!r}")
            return matches
        if not include_disabled:
            connections = connections.exclude(status=ProviderConnection.Status.DISABLED)
        return list(connections)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
