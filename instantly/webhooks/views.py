"""`POST /webhooks/instantly/webhook`: authenticate, bound, parse, store, answer.

Answers, in the order they are decided (every error is a JSON object `{"error": ...}`):
405 not a POST; 401 no or wrong secret (nothing stored); 413 body over
`INSTANTLY_WEBHOOK_MAX_BODY_BYTES` (declared or actual); 400 not JSON, or not a JSON object;
503 the database cannot store it (Instantly will retry). Anything else is stored and answered
200, unknown event types and duplicates included: a 4xx would make Instantly retry and then
disable the subscription. Processing is woken after commit; a dead broker still gets a 200.

A good delivery costs one database round trip: the secret's connection is found and the row
inserted by one statement, committed on its own before the answer (`ingest.store_by_secret`).
A refused body (413, 400) pays a second one, to answer a stranger 401 rather than say
anything about its body. No log line per delivery (the metric counts them; the row keeps the
request id, which the processing lines carry); errors are logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from instantly.models import WebhookEvent
from salesbrain import metrics

from .auth import WebhookUnauthorized, delivery_secret, known_secret
from .ingest import StoredDelivery, store_by_secret
from .tasks import enqueue_event

logger = logging.getLogger("instantly.webhooks")


class BadPayload(ValueError):
    """The body is not a JSON object."""


class Answer(JsonResponse):
    """The receiver's answer, and what it did with the delivery (the metric's `outcome`)."""

    def __init__(self, outcome: str, body: dict[str, Any], status: int = 200, **headers: str):
        super().__init__(body, status=status, headers=headers or None)
        self.outcome = outcome


def _error(outcome: str, status: int, message: str, **headers: str) -> Answer:
    return Answer(outcome, {"error": message}, status, **headers)


@csrf_exempt
def instantly_webhook(request: HttpRequest) -> JsonResponse:
    answer = _answer(request)
    # Counted once the transaction is over: a delivery whose commit failed is `failed`.
    metrics.WEBHOOK_DELIVERIES.labels(outcome=answer.outcome).inc()
    return answer


def _answer(request: HttpRequest) -> Answer:
    if request.method != "POST":
        return _error("rejected", 405, "method not allowed", Allow="POST")
    try:
        return _receive(request)
    except (DatabaseError, psycopg.Error):
        # psycopg's own errors too: the bulk-write engine runs on a plain psycopg cursor, and
        # a lock or statement timeout, a terminated connection, must be a 503 all the same.
        logger.exception("could not store a webhook delivery")
        return _error("failed", 503, "could not store the delivery, try again")


def _receive(request: HttpRequest) -> Answer:
    try:
        secret = delivery_secret(request)
    except WebhookUnauthorized:
        return _unauthorized()

    payload = _read_payload(request)
    if isinstance(payload, Answer):  # refused: a stranger learns nothing about why
        return payload if known_secret(secret) else _unauthorized()

    stored = store_by_secret(
        secret, payload, enqueue=enqueue_event, request_id=getattr(request, "request_id", "")
    )
    if stored is None:
        return _unauthorized()
    outcome = _outcome(stored)
    logger.debug(
        "webhook delivery %s: %s",
        stored.event_id or "-",
        outcome,
        extra={"event_id": stored.event_id, "connection_id": str(stored.connection_id)},
    )
    return Answer(
        outcome,
        {"ok": True, "id": stored.event_id, "status": stored.status, "duplicate": stored.duplicate},
    )


def _unauthorized() -> Answer:
    return _error("unauthorized", 401, "missing or wrong webhook secret")


def _read_payload(request: HttpRequest) -> dict[str, Any] | Answer:
    """The delivery's JSON object, or the 4xx answer that refuses it."""
    limit = settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error("rejected", 400, "invalid Content-Length")
    if declared > limit:
        return _error("rejected", 413, f"body larger than {limit} bytes")
    # Read the stream ourselves (never request.body): at most one byte past the limit.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error("rejected", 413, f"body larger than {limit} bytes")
    try:
        return parse_payload(body)
    except BadPayload as exc:
        return _error("rejected", 400, str(exc))


def _outcome(stored: StoredDelivery) -> str:
    if stored.duplicate:
        return "duplicate"
    return "ignored" if stored.status == WebhookEvent.Status.IGNORED else "stored"


def parse_payload(body: bytes) -> dict[str, Any]:
    """The delivery as a dict, or BadPayload with a reason fit for the caller."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadPayload(f"body is not valid JSON: {exc.__class__.__name__}") from exc
    if not isinstance(payload, dict):
        raise BadPayload("body must be a JSON object")
    return payload


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value
