"""Who sent a webhook delivery: the connection whose secret is in the custom header.

Instantly signs nothing; the only proof is the secret Salesbrain registered as a custom header
on the subscription. The header's SHA-256 digest finds the connection (an indexed lookup, so the
secret itself is never compared in SQL), then the decrypted secret is compared in constant time.
`authenticate_delivery` is the receiver's first call and has no switch to turn it off.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest

from instantly.models import ProviderConnection, secret_digest

from . import within_staff_scope

SECRET_HEADER = "X-Salesbrain-Webhook-Secret"  # noqa: S105 - a header name
# Longer than any secret we generate (token_urlsafe(32) is 43 characters); refuse before hashing.
MAX_SECRET_LENGTH = 256


class WebhookUnauthorized(Exception):
    """No secret, or a secret no connection has: answer 401 and store nothing."""


def authenticate_delivery(request: HttpRequest) -> ProviderConnection:
    """The connection a delivery belongs to, or WebhookUnauthorized."""
    secret = request.headers.get(SECRET_HEADER, "")
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise WebhookUnauthorized("missing webhook secret")
    # Connections are tenant rows; finding one by its secret is server work across tenants.
    with within_staff_scope():
        connection = (
            ProviderConnection.objects.unscoped()
            .filter(webhook_secret_digest=secret_digest(secret))
            .only("id", "organization_id", "webhook_secret_encrypted", "status")
            .first()
        )
    if connection is None or not hmac.compare_digest(
        secret.encode(), connection.webhook_secret.encode()
    ):
        raise WebhookUnauthorized("wrong webhook secret")
    return connection
