"""A local stand-in for Instantly's API v2 and webhook traffic, for demos and end-to-end tests.

`SandboxWorkspace` generates a deterministic workspace, `SandboxApp` serves it as Instantly's
API (auth, pagination, rate limits, fault injection, request stats), `SandboxServer` runs that
in a background thread, and `generate_deliveries`/`post_deliveries` produce webhook traffic in
Instantly's flat shape. Stdlib and requests only: nothing here imports Django.
"""

from instantly.sandbox.data import SandboxWorkspace
from instantly.sandbox.server import (
    DEFAULT_API_KEY,
    DEFAULT_V1_API_KEY,
    SandboxApp,
    SandboxServer,
)
from instantly.sandbox.webhooks import (
    ALL_EVENT_TYPES,
    CUSTOM_LABEL,
    CUSTOM_LABEL_NAMES,
    LEGACY_ALIASES,
    SUBSCRIPTION_EVENT_TYPES,
    WEBHOOK_AUTH_HEADER,
    generate_deliveries,
    post_deliveries,
)

__all__ = [
    "ALL_EVENT_TYPES",
    "CUSTOM_LABEL",
    "CUSTOM_LABEL_NAMES",
    "DEFAULT_API_KEY",
    "DEFAULT_V1_API_KEY",
    "LEGACY_ALIASES",
    "SUBSCRIPTION_EVENT_TYPES",
    "WEBHOOK_AUTH_HEADER",
    "SandboxApp",
    "SandboxServer",
    "SandboxWorkspace",
    "generate_deliveries",
    "post_deliveries",
]
