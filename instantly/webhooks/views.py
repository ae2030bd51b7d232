"""`POST /webhooks/instantly/webhook`: authenticate, bound, parse, store, answer.

Answers, in the order they are decided (every error is a JSON object `{"error": ...}`):
405 not a POST; 401 no or wrong secret (nothing stored); 413 body over
`INSTANTLY_WEBHOOK_MAX_BODY_BYTES` (declared or actual); 400 not JSON, or not a JSON object;
503 the database cannot store it (Instantly will retry). Anything else is stored and answered
200, unknown event types and duplicates included: a 4xx would make Instantly retry and then
disable the subscription. Processing is enqueued after commit; a dead broker still gets a 200.
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

from . import within_staff_scope
from .auth import WebhookUnauthorized, authenticate_delivery
from .ingest import StoredDelivery, store_delivery
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
        # One transaction identifies the connection and stores the delivery: on a busy server
        # database round trips are most of what a delivery costs.
        with within_staff_scope():
            return _receive(request)
    except (DatabaseError, psycopg.Error):
        # psycopg's own errors too: the bulk-write engine runs on a plain psycopg cursor, and
        # a lock or statement timeout, a terminated connection, must be a 503 all the same.
        logger.exception("could not store a webhook delivery")
        return _error("failed", 503, "could not store the delivery, try again")


def _receive(request: HttpRequest) -> Answer:
    try:
        connection = authenticate_delivery(request)
    except WebhookUnauthorized:
        return _error("unauthorized", 401, "missing or wrong webhook secret")

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
        payload = parse_payload(body)
    except BadPayload as exc:
        return _error("rejected", 400, str(exc))

    stored = store_delivery(
        connection, payload, enqueue=enqueue_event, request_id=getattr(request, "request_id", "")
    )
    outcome = _outcome(stored)
    # The receipt line: with the request id (log context) and the event id, it joins this
    # request to the worker's processing lines.
    logger.info(
        "webhook delivery %s: %s",
        stored.event_id or "-",
        outcome,
        extra={"event_id": stored.event_id, "connection_id": str(connection.pk)},
    )
    return Answer(
        outcome,
        {"ok": True, "id": stored.event_id, "status": stored.status, "duplicate": stored.duplicate},
    )


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
