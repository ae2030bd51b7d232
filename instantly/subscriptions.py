"""Salesbrain's webhook subscription at Instantly: register it once, resume it when disabled.

Instantly signs nothing, so the subscription carries the connection's secret as a custom header
(`X-Salesbrain-Webhook-Secret`), which the receiver checks (`instantly.webhooks.auth`). One
subscription per connection and URL, for all events: registering again reuses it, and only
replaces it when its header no longer carries the current secret (after a secret rotation).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.client import InstantlyClient
from instantly.connections import using_client
from instantly.errors import InstantlyNotFoundError
from instantly.models import ProviderConnection, SubscriptionState
from instantly.schemas import Webhook
from instantly.webhooks.auth import SECRET_HEADER

logger = logging.getLogger(__name__)

ALL_EVENTS = "all_events"
# Webhook.status: 1 is active. Instantly's OpenAPI spec gives -1 for "disabled due to delivery
# failures" but its guides do not: any status other than 1 is taken as not delivering, so
# resuming never rests on -1 alone. A subscription that says no status is taken as active.
ACTIVE = 1
DISABLED = -1  # the documented value, kept for callers and tests


def is_delivering(webhook: Webhook) -> bool:
    """Whether Instantly is delivering to this subscription (its status is 1 or unsaid)."""
    return webhook.status is None or webhook.status == ACTIVE


class SubscriptionNotFound(LookupError):
    """There is no subscription to resume: register one first."""


def register_webhook(
    connection: ProviderConnection, url: str | None = None, *, client: InstantlyClient | None = None
) -> Webhook:
    """Make sure Instantly posts every event of the workspace to `url` (default
    INSTANTLY_WEBHOOK_URL) with the connection's secret; store the subscription id.

    An existing subscription for the same URL with the current secret is reused (and resumed if
    Instantly disabled it); one with a stale secret is replaced.
    """
    url = url or settings.INSTANTLY_WEBHOOK_URL
    if not url:
        raise ImproperlyConfigured(
            "Set INSTANTLY_WEBHOOK_URL (or pass a URL) to register a webhook."
        )
    with using_client(connection, client) as api:
        secret = connection.webhook_secret
        webhook = None
        for candidate in api.list_webhooks():
            if not _same_url(candidate.target_hook_url, url):
                continue
            if _is_current(candidate, secret):
                webhook = candidate
                break
            logger.info("replacing webhook subscription %s (stale secret or events)", candidate.id)
            api.delete_webhook(candidate.id)
        if webhook is None:
            webhook = api.create_webhook(
                url, event_type=ALL_EVENTS, headers={SECRET_HEADER: secret}
            )
            logger.info(
                "registered webhook subscription %s for connection %s", webhook.id, connection.pk
            )
        elif not is_delivering(webhook):
            webhook = api.resume_webhook(webhook.id) or webhook
    _store_subscription(connection, webhook.id, SubscriptionState.ACTIVE)
    return webhook


def resume_webhook(
    connection: ProviderConnection, *, client: InstantlyClient | None = None
) -> Webhook | None:
    """Re-enable the connection's subscription after Instantly disabled it (failed deliveries).

    Raises SubscriptionNotFound when there is none (never registered, or deleted at Instantly).
    """
    if not connection.webhook_subscription_id:
        raise SubscriptionNotFound(f"{connection.name}: no webhook subscription is registered")
    with using_client(connection, client) as api:
        try:
            webhook = api.resume_webhook(connection.webhook_subscription_id)
        except InstantlyNotFoundError:
            _store_subscription(connection, "", SubscriptionState.MISSING)
            raise SubscriptionNotFound(
                f"{connection.name}: the webhook subscription no longer exists at Instantly; "
                "register it again"
            ) from None
    logger.info("resumed webhook subscription %s", connection.webhook_subscription_id)
    _store_subscription(connection, connection.webhook_subscription_id, SubscriptionState.ACTIVE)
    return webhook


def _is_current(webhook: Webhook, secret: str) -> bool:
    """Ours, with the current secret, for every event of every campaign. An `event_type` of
    null is not "all events": Instantly then delivers custom-label events only."""
    headers = webhook.headers or {}
    sent = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER.lower()), None)
    return sent == secret and webhook.event_type == ALL_EVENTS and not webhook.campaign


def _same_url(a: str | None, b: str) -> bool:
    return bool(a) and a.rstrip("/") == b.rstrip("/")


def check_subscription(
    connection: ProviderConnection, *, client: InstantlyClient | None = None
) -> str:
    """Ask Instantly what became of the connection's subscription (active, disabled after
    failed deliveries, or gone); store the answer and return it. Every sync calls this."""
    if not connection.webhook_subscription_id:
        return connection.webhook_subscription_state
    with using_client(connection, client) as api:
        webhooks = api.list_webhooks()
    found = next((w for w in webhooks if w.id == connection.webhook_subscription_id), None)
    if found is None:
        state = SubscriptionState.MISSING
    elif not is_delivering(found):
        state = SubscriptionState.DISABLED
    else:
        state = SubscriptionState.ACTIVE
    if state != SubscriptionState.ACTIVE:
        logger.warning(
            "webhook subscription %s of %s: %s", found.id if found else "-", connection.name, state
        )
    _store_subscription(connection, connection.webhook_subscription_id, state)
    return state


def _store_subscription(connection: ProviderConnection, subscription_id: str, state: str) -> None:
    connection.webhook_subscription_id = subscription_id
    connection.webhook_subscription_state = state
    connection.webhook_checked_at = timezone.now()
    with staff_scope():
        ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
            webhook_subscription_id=subscription_id,
            webhook_subscription_state=state,
            webhook_checked_at=connection.webhook_checked_at,
        )
