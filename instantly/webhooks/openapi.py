"""The webhook receiver in the OpenAPI schema: `POST /webhooks/instantly/webhook`.

The receiver is a plain Django view (it must answer before any DRF machinery, and never with
the API's error format: Instantly reads only the status), so drf-spectacular cannot see it. This
postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) adds it as a path, with its
secret header, the body Instantly posts and every answer `views.py` gives. A path rather than
an OpenAPI 3.1 `webhooks` entry: the schema is OpenAPI 3.0, and the path is one Salesbrain
serves (Instantly is the caller).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .auth import SECRET_HEADER

RECEIVER_ERROR = {
    "type": "object",
    "description": "The receiver's error answer (not the API's format: Instantly reads only "
    "the status code).",
    "properties": {"error": {"type": "string", "description": "What was wrong, for humans."}},
    "required": ["error"],
}

PAYLOAD = {
    "type": "object",
    "description": "One event as Instantly posts it: a flat JSON object. Every field but "
    "`event_type` may be missing; the lead's custom variables are merged in as extra "
    "top-level keys (all strings). Stored as received, whatever its type.",
    "properties": {
        "timestamp": {"type": "string", "format": "date-time"},
        "event_type": {
            "type": "string",
            "description": "A documented event type (email_sent, email_opened, "
            "email_link_clicked, reply_received, email_bounced, lead_unsubscribed, "
            "campaign_completed, account_error, lead_interested, ...), an alternate spelling "
            "(link_clicked, auto_reply_received), or a custom lead label's name.",
        },
        "workspace": {"type": "string", "format": "uuid"},
        "campaign_id": {"type": "string", "format": "uuid"},
        "campaign_name": {"type": "string"},
        "lead_email": {"type": "string", "format": "email"},
        "email": {"type": "string", "format": "email"},
        "email_account": {"type": "string", "format": "email"},
        "step": {"type": "integer", "description": "1-based"},
        "variant": {"type": "integer", "description": "1-based"},
        "is_first": {"type": "boolean"},
        "email_id": {"type": "string", "format": "uuid"},
        "unibox_url": {
            "type": "string",
            "description": "…?thread_search=thread:<id> or, in older deliveries, "
            "…?thread_search=<lead email>",
        },
        "email_subject": {"type": "string"},
        "email_text": {"type": "string"},
        "email_html": {"type": "string"},
        "reply_subject": {"type": "string"},
        "reply_text": {"type": "string"},
        "reply_html": {"type": "string"},
        "reply_text_snippet": {"type": "string"},
    },
    "required": ["event_type"],
    "additionalProperties": True,
    "example": {
        "timestamp": "2026-05-04T09:12:44.000Z",
        "event_type": "reply_received",
        "workspace": "018db1c9-aa00-737d-8cb9-bfc507664a37",
        "campaign_id": "0196e0a2-5c1d-7c3e-9d4a-3f0f8a1b2c3d",
        "campaign_name": "Dental clinics DACH",
        "lead_email": "anna@praxis.example",
        "email_account": "max@salesbrain-mail.example",
        "step": 1,
        "variant": 1,
        "email_id": "0196e0a3-11aa-7bcd-8e0f-123456789abc",
        "reply_subject": "Re: Quick question",
        "reply_text": "Thanks, could you send a few times for a call?",
        "firstName": "Anna",
    },
}


def _error(description: str, example: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": RECEIVER_ERROR, "example": {"error": example}}},
    }


def receiver_operation() -> dict[str, Any]:
    limit = settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES
    return {
        "operationId": "instantly_webhook_receive",
        "summary": "Receive one Instantly webhook delivery",
        "description": (
            "Where Instantly posts events (register it with `manage.py "
            "instantly_subscribe_webhook`). Instantly signs nothing: the delivery is "
            f"authenticated by the `{SECRET_HEADER}` header that Salesbrain registered on the "
            "subscription. An authenticated delivery is stored before the answer and processed "
            "later; duplicates and event types nobody handles are answered 200 too (a 4xx "
            "would make Instantly retry and then disable the subscription)."
        ),
        "tags": ["webhooks"],
        "security": [],
        "parameters": [
            {
                "name": SECRET_HEADER,
                "in": "header",
                "required": True,
                "description": "The connection's webhook secret (one per Instantly workspace).",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PAYLOAD}},
        },
        "responses": {
            "200": {
                "description": "Stored (or recognised as a duplicate, or stored as ignored).",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "ok": {"type": "boolean", "enum": [True]},
                                "id": {
                                    "type": "integer",
                                    "nullable": True,
                                    "description": "The stored event's id; null for a duplicate.",
                                },
                                "status": {
                                    "type": "string",
                                    "enum": ["pending", "ignored"],
                                    "description": "pending: to be processed; ignored: an "
                                    "event type nobody handles (kept for staff).",
                                },
                                "duplicate": {"type": "boolean"},
                            },
                            "required": ["ok", "id", "status", "duplicate"],
                        },
                        "example": {
                            "ok": True,
                            "id": 1842,
                            "status": "pending",
                            "duplicate": False,
                        },
                    }
                },
            },
            "400": _error(
                "The body is not JSON, not a JSON object, or Content-Length is invalid.",
                "body is not valid JSON: JSONDecodeError",
            ),
            "401": _error(
                f"No or wrong `{SECRET_HEADER}` header; nothing is stored.",
                "missing or wrong webhook secret",
            ),
            "405": {
                **_error("Not a POST.", "method not allowed"),
                "headers": {"Allow": {"schema": {"type": "string", "example": "POST"}}},
            },
            "413": _error(
                f"The body is larger than {limit} bytes (declared or actual).",
                f"body larger than {limit} bytes",
            ),
            "503": _error(
                "The database could not store the delivery: Instantly retries it.",
                "could not store the delivery, try again",
            ),
        },
    }


def add_receiver(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: document the receiver's path."""
    path = settings.INSTANTLY_WEBHOOK_PATH
    result.setdefault("paths", {})[path] = {"post": receiver_operation()}
    tags = result.setdefault("tags", [])
    if not any(tag.get("name") == "webhooks" for tag in tags):
        tags.append(
            {"name": "webhooks", "description": "What Instantly calls: the webhook receiver."}
        )
    return result
