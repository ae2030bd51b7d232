"""Writing a delivery down: the one thing the receiver must do before it answers.

The dedupe key is the SHA-256 of the payload's canonical JSON (sorted keys, no spaces), so a
retried delivery is recognised whatever the key order. A payload whose strings could not be
stored (a lone surrogate, a NUL) is made storable first (`instantly.text`), before hashing.
The row is inserted straight away with `ON CONFLICT (connection_id, dedupe_key) DO NOTHING`:
no row back means a duplicate. That is dj-stripe's "insert, and treat the unique violation as a
duplicate" done by PostgreSQL itself: when two identical deliveries race, the second insert
waits for the first to commit and then does nothing, with no error to catch and no savepoint to
pay for. Processing is enqueued only
after the row is committed.

The receiver stores with `store_by_secret`: one statement, `sb_store_webhook_deliveries` (a
SECURITY DEFINER function, see migration instantly 0014), finds the connection by the secret's
digest and inserts, outside any transaction of ours, so it commits before the answer in one
round trip: no BEGIN, no `set_config`, no separate lookup, no COMMIT. That statement stores
every delivery the process received meanwhile (`group_store`). `store_delivery` (a
connection already in hand: tests, reprocessing, loaders) inserts through the bulk writer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from instantly.models import ProviderConnection, WebhookEvent, secret_digest
from instantly.text import clean_json
from salesbrain.bulk import insert_rows

from . import group_store, within_staff_scope
from .effects import is_handled
from .events import extract_fields

logger = logging.getLogger("instantly.webhooks")

ON_DUPLICATE = "ON CONFLICT (connection_id, dedupe_key) DO NOTHING"


@dataclass(frozen=True)
class StoredDelivery:
    """The outcome of storing: the row's id (None for a duplicate) and its status."""

    event_id: int | None
    status: str
    duplicate: bool = False
    connection_id: Any = None


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def storable(payload: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """(payload, its canonical JSON as UTF-8): cleaned only when it has to be, so the common
    case costs one serialisation."""
    canonical = _canonical(payload)
    if "\\u0000" not in canonical:
        try:
            return payload, canonical.encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate
    payload = clean_json(payload)
    return payload, _canonical(payload).encode()


def dedupe_key(payload: Any) -> str:
    return hashlib.sha256(storable(payload)[1]).hexdigest()


def store_delivery(
    connection: ProviderConnection,
    payload: dict[str, Any],
    *,
    enqueue: Callable[[int], Any] | None = None,
    received_at: dt.datetime | None = None,
    request_id: str = "",
) -> StoredDelivery:
    """Store one authenticated delivery; `enqueue(event_id)` runs after commit if it is to be
    processed. Types nobody handles are stored as ignored, for staff to see. Runs in the
    caller's staff scope (the receiver's transaction) or opens one."""
    event = build_event(connection, payload, received_at=received_at)
    event.request_id = request_id[:128]
    handled = event.status == WebhookEvent.Status.PENDING
    with within_staff_scope():
        written = insert_rows(WebhookEvent, [event], on_conflict=ON_DUPLICATE)
        if not written:
            logger.info("webhook delivery %s: duplicate, not stored again", event.dedupe_key[:12])
            return StoredDelivery(None, event.status, duplicate=True)
        event_id = written[0][0]
        if not handled:
            logger.info("webhook event %s %r: stored as ignored", event_id, event.event_type_raw)
        if handled and enqueue is not None:
            transaction.on_commit(lambda: enqueue(event_id), robust=True)
    return StoredDelivery(event_id, event.status)


def store_by_secret(
    secret: str,
    payload: dict[str, Any],
    *,
    enqueue: Callable[[int], Any] | None = None,
    received_at: dt.datetime | None = None,
    request_id: str = "",
) -> StoredDelivery | None:
    """Store a delivery for the connection whose webhook secret this is, committed when this
    returns; None (and nothing stored) if no connection has it. `enqueue(event_id)` runs once
    the row is committed, if it is to be processed. Raises a DatabaseError if it could not be
    stored.

    Authentication is the lookup of the secret's SHA-256 digest, as for API tokens: nothing
    compares the secret itself, so there is no comparison to time, and the digest of a wrong
    guess tells an attacker nothing about the right one. A rotated secret's digest is gone
    from its row with the save, so it stops working at once (there is no cache to expire).
    The lookup and the insert are one statement, shared with the deliveries the process
    received meanwhile (`group_store`).
    """
    row = delivery_row(secret, payload, received_at=received_at, request_id=request_id)
    written = group_store.writer.store(row)
    if written is None:
        return None
    event_id, status = written.event_id, row.status
    if event_id is None:
        return StoredDelivery(None, status, duplicate=True, connection_id=written.connection_id)
    if status == WebhookEvent.Status.PENDING and enqueue is not None:
        group_store.after_commit(lambda: enqueue(event_id))
    return StoredDelivery(event_id, status, connection_id=written.connection_id)


def delivery_row(
    secret: str,
    payload: dict[str, Any],
    *,
    received_at: dt.datetime | None = None,
    request_id: str = "",
) -> group_store.DeliveryRow:
    """A delivery as `sb_store_webhook_deliveries` takes it: the secret as its digest only."""
    columns, canonical = _event_columns(payload, received_at)
    return group_store.DeliveryRow(
        secret_digest=secret_digest(secret),
        payload=canonical.decode(),
        event_type_raw=columns["event_type_raw"],
        event_type=columns["event_type"],
        dedupe_key=columns["dedupe_key"],
        campaign_instantly_id=columns["campaign_instantly_id"],
        occurred_at=columns["occurred_at"],
        received_at=columns["received_at"],
        status=columns["status"],
        last_error=columns["last_error"],
        request_id=request_id[:128],
    )


def dedupe_key_of(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def build_event(
    connection: ProviderConnection,
    payload: dict[str, Any],
    *,
    received_at: dt.datetime | None = None,
) -> WebhookEvent:
    """The unsaved row for one delivery (also used to load deliveries in bulk)."""
    columns, _canonical = _event_columns(payload, received_at)
    return WebhookEvent(
        organization_id=connection.organization_id, connection_id=connection.pk, **columns
    )


def _event_columns(
    payload: dict[str, Any], received_at: dt.datetime | None
) -> tuple[dict[str, Any], bytes]:
    """A delivery's columns whoever it belongs to, and its canonical JSON: the one place that
    decides its dedupe key, fields, lengths and whether anything handles it (`build_event` and
    the one-statement `store_by_secret` both write these)."""
    payload, canonical = storable(payload)
    fields = extract_fields(payload)
    handled = is_handled(fields.event_type)
    columns = {
        "payload": payload,
        "event_type_raw": fields.raw_event_type[:200],
        "event_type": fields.event_type,
        "dedupe_key": dedupe_key_of(canonical),
        "campaign_instantly_id": fields.campaign_id[:64],
        "occurred_at": fields.occurred_at,
        "received_at": received_at or timezone.now(),
        "status": WebhookEvent.Status.PENDING if handled else WebhookEvent.Status.IGNORED,
        "last_error": "" if handled else f"nothing to do for event type {fields.event_type}",
    }
    return columns, canonical
