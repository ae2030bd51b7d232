"""Who sent a webhook delivery: the connection whose secret is in the custom header.

Instantly signs nothing; the only proof is the secret Salesbrain registered as a custom header
on the subscription. The header's SHA-256 digest finds the connection (an indexed lookup; the
secret itself is stored encrypted and never compared). The receiver authenticates and stores
in one statement (`ingest.store_by_secret`); `known_secret` answers the question alone, for
deliveries refused before storing (too large, not JSON), which a stranger must see as 401.
`delivery_secret` is the receiver's first call and has no switch to turn it off.
"""

from __future__ import annotations

from django.http import HttpRequest

from instantly.models import ProviderConnection, secret_digest

from . import within_staff_scope

SECRET_HEADER = "X-Salesbrain-Webhook-Secret"  # noqa: S105 - a header name
# Longer than any secret we generate (token_urlsafe(32) is 43 characters); refuse before hashing.
MAX_SECRET_LENGTH = 256


class WebhookUnauthorized(Exception):
    """No secret, or a secret no connection has: answer 401 and store nothing."""


def delivery_secret(request: HttpRequest) -> str:
    """The secret the delivery carries, or WebhookUnauthorized if it carries none fit to look
    up."""
    secret = request.headers.get(SECRET_HEADER, "")
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise WebhookUnauthorized("missing webhook secret")
    return secret


def known_secret(secret: str) -> bool:
    """Whether a connection has this secret (one indexed lookup, in a staff scope: finding a
    connection by its secret is server work across tenants)."""
    with within_staff_scope():
        return (
            ProviderConnection.objects.unscoped()
            .filter(webhook_secret_digest=secret_digest(secret))
            .exists()
        )
