"""Typed errors raised by the Instantly API client.

Callers branch on the class (bad key, missing scope, rate limited...) instead of on status codes,
and every error keeps the server's message and parsed body for logs and support.
"""

from __future__ import annotations

import json
from typing import Any

# Cloudflare and proxies may answer with a whole HTML page: keep messages short.
MAX_MESSAGE_LENGTH = 500


class InstantlyError(Exception):
    """Base class: anything that went wrong while talking to Instantly."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        # Seconds the server asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.status_code is None:
            return self.message
        return f"{self.status_code}: {self.message}"


class InstantlyValidationError(InstantlyError):
    """400: the request was malformed; the server's message says which field."""


class InstantlyAuthenticationError(InstantlyError):
    """401: the API key is missing, invalid or revoked."""


class InstantlyPaymentRequiredError(InstantlyError):
    """402: the workspace has no active paid plan."""


class InstantlyMissingScopeError(InstantlyError):
    """403: the API key lacks the scope this endpoint needs."""


class InstantlyNotFoundError(InstantlyError):
    """404: the object does not exist (or not in this workspace)."""


class InstantlyRateLimitedError(InstantlyError):
    """429: the workspace exceeded its request budget; `retry_after` is in seconds or None."""


class InstantlyServerError(InstantlyError):
    """5xx: trouble on Instantly's side (or in front of it)."""


class InstantlyConnectionError(InstantlyError):
    """The request never got an HTTP answer: DNS, refused connection, timeout."""


class InstantlyUnexpectedResponseError(InstantlyError):
    """A 2xx answer whose body is not the JSON shape the endpoint documents."""


_ERROR_BY_STATUS: dict[int, type[InstantlyError]] = {
    400: InstantlyValidationError,
    401: InstantlyAuthenticationError,
    402: InstantlyPaymentRequiredError,
    403: InstantlyMissingScopeError,
    404: InstantlyNotFoundError,
    429: InstantlyRateLimitedError,
}


def parse_error_body(text: str) -> tuple[str | None, Any]:
    """Return (message, body) from an error answer.

    Handles `{"statusCode", "error", "message"}`, `{"message"}` and non-JSON bodies; the
    message is None when the body carries nothing readable.
    """
    text = text or ""
    try:
        body: Any = json.loads(text)
    except ValueError:
        stripped = text.strip()
        return (stripped[:MAX_MESSAGE_LENGTH] or None), (stripped or None)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, list):  # validation libraries sometimes send a list
            message = "; ".join(str(item) for item in message)
        if message is not None:
            return str(message)[:MAX_MESSAGE_LENGTH], body
        return None, body
    if isinstance(body, str) and body.strip():
        return body.strip()[:MAX_MESSAGE_LENGTH], body
    return None, body


def error_for_status(
    status_code: int, text: str, *, retry_after: float | None = None
) -> InstantlyError:
    """Build the typed error matching an HTTP error status and its body."""
    message, body = parse_error_body(text)
    if status_code >= 500:
        error_class: type[InstantlyError] = InstantlyServerError
    else:
        error_class = _ERROR_BY_STATUS.get(status_code, InstantlyError)
    return error_class(
        message or f"HTTP {status_code}",
        status_code=status_code,
        body=body,
        retry_after=retry_after,
    )
