"""Is this Instantly connection usable? `check_connection` answers in one human sentence.

Used by `manage.py instantly_check` and the admin's "Test connection" action. Each failure class
(invalid key, no paid plan, missing scope, rate limited, server error, network) gets its own
explanation (`instantly.connections.explain_error`); the connection's status and last error are
updated like a sync would.
"""

from __future__ import annotations

import dataclasses

from instantly.client import InstantlyClient
from instantly.connections import (
    explain_error,
    record_failure,
    record_success,
    redact,
    using_client,
)
from instantly.errors import InstantlyError
from instantly.models import ProviderConnection


@dataclasses.dataclass
class CheckResult:
    """What a connection check found; `message` is what staff read."""

    ok: bool
    message: str
    workspace_id: str = ""
    workspace_name: str = ""
    campaigns: int | None = None
    accounts: int | None = None
    # None when the connection has no v1 key (nothing to check).
    v1_ok: bool | None = None
    v1_message: str = ""
    error: str = ""  # the failing error's class name, for scripts

    def __str__(self) -> str:
        return self.message


def check_connection(
    connection: ProviderConnection, *, client: InstantlyClient | None = None
) -> CheckResult:
    """Check the key (current workspace), count campaigns and mailboxes, and check the v1 key
    when one is set. Never raises for an Instantly failure: it is in the result."""
    with using_client(connection, client) as api:
        try:
            workspace = api.get_current_workspace()
            campaigns = sum(1 for _ in api.iter_campaigns())
            accounts = sum(1 for _ in api.iter_accounts())
        except InstantlyError as exc:
            message = record_failure(connection, exc)
            return CheckResult(ok=False, message=message, error=type(exc).__name__)
        record_success(connection)
        result = CheckResult(
            ok=True,
            message="",
            workspace_id=workspace.id,
            workspace_name=workspace.name or "",
            campaigns=campaigns,
            accounts=accounts,
        )
        if connection.api_key_v1:
            try:
                api.check_v1(connection.api_key_v1)
                result.v1_ok, result.v1_message = True, "v1 key accepted"
            except InstantlyError as exc:
                result.v1_ok = False
                result.v1_message = "v1 key: " + redact(explain_error(exc), connection)
                result.ok, result.error = False, type(exc).__name__
    parts = [
        f"Key valid for workspace {result.workspace_name or '(unnamed)'} ({result.workspace_id})",
        f"{result.campaigns} campaign(s)",
        f"{result.accounts} mailbox(es)",
    ]
    if result.v1_message:
        parts.append(result.v1_message)
    if connection.workspace_id and connection.workspace_id != result.workspace_id:
        parts.append(
            f"warning: this connection mirrors workspace {connection.workspace_id}, "
            "the key opens another one"
        )
        result.ok = False
    result.message = "; ".join(parts) + "."
    return result
