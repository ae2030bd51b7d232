"""The sandbox's webhook deliveries to subscriptions, and Instantly's log of them.

`deliver` sends one event to every matching subscription of a sandbox workspace, the way
Instantly does (POST, flat JSON, the subscription's custom headers), and writes each attempt
in the workspace's delivery log, which `GET /api/v2/webhook-events` lists with the fields of
Instantly's "Webhook Event" schema (id, timestamp_created, payload, success, retry_count,
will_retry, webhook_url, status_code, error_message, retry_group_id, ...).

Unconfirmed, and chosen here: the log lists newest first; a delivery Instantly could not make
because the subscription was disabled is logged as a failure (it is the case reconciliation
exists for); a failed delivery is retried 3 times and then logged with `will_retry` false.
`POST /api/v2/webhooks/{id}/test` sends the `webhook_test` payload below (its real shape is not
documented) from a background thread, as Instantly answers before it delivers.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from instantly.sandbox.data import SandboxWorkspace

RETRIES = 3
TEST_EVENT_TYPE = "webhook_test"


class DeliveryLog:
    """Every delivery attempt of one workspace, oldest first."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._seq = 0

    def _next_id(self, now: datetime) -> str:
        """A UUIDv7-shaped id that sorts in logging order (time, then a sequence number)."""
        with self._lock:
            self._seq += 1
            seq = self._seq
        millis = int(now.timestamp() * 1000)
        value = (millis << 80) | (0x7 << 76) | ((seq & 0xFFF) << 64) | (0b10 << 62) | seq
        return str(uuid.UUID(int=value))

    def add(self, **fields: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        entry = {
            "id": self._next_id(now),
            "timestamp_created": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "timestamp_created_date": now.date().isoformat(),
            "organization_id": None,
            "payload": None,
            "success": True,
            "retry_count": 0,
            "will_retry": False,
            "webhook_url": None,
            "status_code": 200,
            "error_message": None,
            "timestamp_next_retry": None,
            "retry_group_id": None,
            "retry_successful": None,
            **fields,
        }
        with self._lock:
            self.entries.append(entry)
        return entry

    def newest_first(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(reversed(self.entries))


_LOGS: weakref.WeakKeyDictionary[SandboxWorkspace, DeliveryLog] = weakref.WeakKeyDictionary()


def log_of(workspace: SandboxWorkspace) -> DeliveryLog:
    """The workspace's delivery log (created on first use)."""
    log = _LOGS.get(workspace)
    if log is None:
        log = _LOGS[workspace] = DeliveryLog()
    return log


def deliver(
    workspace: SandboxWorkspace,
    payload: dict[str, Any],
    *,
    fail: bool = False,
    post: Callable[..., Any] | None = None,
    timeout: float = 10.0,
    webhooks: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Send `payload` to each subscription that wants it; answer the log entries written.

    `fail=True` stands for a receiver that was down through every retry: nothing is posted and
    the attempt is logged as failed for good. A disabled subscription gets nothing either and
    is logged the same way (unconfirmed: see the module's docstring). `webhooks` targets those
    subscriptions only, whatever they subscribed to (a test delivery)."""
    post = post or requests.post
    log = log_of(workspace)
    written = []
    if webhooks is None:
        webhooks = [w for w in list(workspace.webhooks.values()) if _wants(w, payload)]
    for webhook in webhooks:
        common = {
            "organization_id": workspace.workspace["id"],
            "payload": payload,
            "webhook_url": webhook["target_hook_url"],
            "retry_group_id": str(uuid.uuid4()),
        }
        if fail or webhook.get("status") != 1:
            reason = "subscription disabled" if webhook.get("status") != 1 else "ECONNREFUSED"
            written.append(
                log.add(
                    **common,
                    success=False,
                    status_code=None,
                    retry_count=RETRIES,
                    error_message=f"Delivery failed: {reason}",
                )
            )
            continue
        try:
            response = post(
                webhook["target_hook_url"],
                json=payload,
                headers=dict(webhook.get("headers") or {}),
                timeout=timeout,
            )
        except requests.RequestException as exc:
            written.append(
                log.add(**common, success=False, status_code=None, error_message=str(exc)[:200])
            )
            continue
        ok = 200 <= response.status_code < 300
        written.append(
            log.add(
                **common,
                success=ok,
                status_code=response.status_code,
                error_message=None if ok else f"HTTP {response.status_code}",
            )
        )
    return written


def test_payload(workspace: SandboxWorkspace, webhook: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox sends as a test delivery (Instantly's own is undocumented)."""
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event_type": TEST_EVENT_TYPE,
        "workspace": workspace.workspace["id"],
        "webhook_id": webhook["id"],
        "campaign_id": None,
        "campaign_name": None,
        "test_id": str(uuid.uuid4()),
    }


def send_test(workspace: SandboxWorkspace, webhook_id: str) -> dict[str, Any]:
    """POST /webhooks/{id}/test: answer at once, deliver from a background thread."""
    webhook = workspace.webhook(webhook_id)
    payload = test_payload(workspace, webhook)

    def run() -> None:
        deliver(workspace, payload, webhooks=[dict(webhook)])

    threading.Thread(target=run, name="sandbox-webhook-test", daemon=True).start()
    return {"success": True, "message": "Test webhook sent"}


def _wants(webhook: dict[str, Any], payload: dict[str, Any]) -> bool:
    event_type = webhook.get("event_type")
    if webhook.get("campaign") and webhook["campaign"] != payload.get("campaign_id"):
        return False
    if event_type == "all_events":
        return True
    return payload.get("event_type") == event_type
