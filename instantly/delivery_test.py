"""Test delivery: ask Instantly to send one (POST /api/v2/webhooks/{id}/test) and watch for it.

It answers the question "does Instantly reach us?" end to end: the subscription, the public
URL, the secret header, the receiver and the database. Any delivery stored for the connection
after the request counts as arrival (the test payload's shape is undocumented, so it is not
matched; a live event arriving in the same seconds proves the same thing). The outcome is kept
as a `WebhookTest` row, which the connection's admin page shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from accounts.tenancy import staff_scope
from instantly.client import InstantlyClient
from instantly.connections import client_for
from instantly.errors import InstantlyError
from instantly.history_api import send_test_delivery
from instantly.models import ProviderConnection, WebhookEvent, WebhookTest
from instantly.reconcile import REPLAYED_REQUEST_PREFIX

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.5


def run_test_delivery(
    connection: ProviderConnection,
    *,
    client: InstantlyClient | None = None,
    wait: float = WAIT_SECONDS,
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WebhookTest:
    """Request a test delivery and wait up to `wait` seconds for a delivery to be stored."""
    with staff_scope():
        test = WebhookTest.objects.unscoped().create(
            organization_id=connection.organization_id, connection=connection
        )
    if not connection.webhook_subscription_id:
        return _finish(test, WebhookTest.Outcome.FAILED, "no webhook subscription registered")
    own = client is None
    api = client if client is not None else client_for(connection)
    try:
        send_test_delivery(api, connection.webhook_subscription_id)
    except InstantlyError as exc:
        return _finish(test, WebhookTest.Outcome.FAILED, str(exc)[:2000])
    finally:
        if own:
            api.close()
    deadline = clock() + wait
    while True:
        arrived = _arrival(connection, test)
        if arrived is not None:
            seconds = (arrived - test.requested_at).total_seconds()
            return _finish(
                test, WebhookTest.Outcome.ARRIVED, f"arrived after {seconds:.1f} s", arrived
            )
        if clock() >= deadline:
            return _finish(
                test,
                WebhookTest.Outcome.MISSING,
                f"no delivery within {wait:.0f} s: check the subscription, the public URL "
                "(INSTANTLY_WEBHOOK_URL) and the secret header",
            )
        sleep(poll)


def _arrival(connection: ProviderConnection, test: WebhookTest):
    with staff_scope():
        return (
            WebhookEvent.objects.unscoped()
            .filter(connection_id=connection.pk, received_at__gte=test.requested_at)
            .exclude(request_id__startswith=REPLAYED_REQUEST_PREFIX)
            .order_by("received_at")
            .values_list("received_at", flat=True)
            .first()
        )


def _finish(test: WebhookTest, outcome: str, detail: str, arrived=None) -> WebhookTest:
    test.outcome, test.detail, test.arrived_at = outcome, detail, arrived
    with staff_scope():
        WebhookTest.objects.unscoped().filter(pk=test.pk).update(
            outcome=outcome, detail=detail, arrived_at=arrived
        )
    return test


def latest_test(connection: ProviderConnection) -> WebhookTest | None:
    with staff_scope():
        return WebhookTest.objects.unscoped().filter(connection_id=connection.pk).first()
