"""What a sync (or an import) reports: counts per kind of row, requests and time, progress."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from salesbrain.bulk import Counts

Progress = Callable[[str], None]

__all__ = ("Counts", "Progress", "SyncResult", "silent")


def silent(message: str) -> None:
    """Progress goes nowhere unless a caller (the command) asks for it."""


@dataclasses.dataclass
class SyncResult:
    """The outcome of one sync (or import): counts per kind of row, requests and time spent."""

    connection_id: str
    workspace_id: str = ""
    workspace_name: str = ""
    campaigns: Counts = dataclasses.field(default_factory=Counts)
    accounts: Counts = dataclasses.field(default_factory=Counts)
    # created = links added, vanished = links removed, updated = links re-homed.
    senders: Counts = dataclasses.field(default_factory=Counts)
    # Per campaign: did its totals (campaign.analytics) change?
    analytics: Counts = dataclasses.field(default_factory=Counts)
    campaign_daily: Counts = dataclasses.field(default_factory=Counts)
    campaign_steps: Counts = dataclasses.field(default_factory=Counts)
    account_daily: Counts = dataclasses.field(default_factory=Counts)
    # The workspace's custom lead labels (GET /lead-labels).
    lead_labels: Counts = dataclasses.field(default_factory=Counts)
    # Campaigns whose daily and step figures were fetched (the others' totals had not moved).
    figures_fetched: int = 0
    requests: int = 0
    duration: float = 0.0
    # The history backfill's `BackfillResult` (None when it did not run or stopped on an error).
    history: Any = None

    ROW_KINDS = (
        "campaigns",
        "accounts",
        "senders",
        "analytics",
        "campaign_daily",
        "campaign_steps",
        "account_daily",
        "lead_labels",
    )

    @property
    def changed(self) -> bool:
        history = self.history is not None and self.history.emails_written > 0
        return history or any(getattr(self, kind).changed for kind in self.ROW_KINDS)

    @property
    def counts(self) -> dict[str, int]:
        """Flat integer counts (what the admin shows after "Sync now")."""
        flat = {}
        for kind in ("campaigns", "accounts"):
            for name, value in dataclasses.asdict(getattr(self, kind)).items():
                flat[f"{kind}_{name}"] = value
        for kind in ("campaign_daily", "campaign_steps", "account_daily"):
            flat[f"{kind}_written"] = getattr(self, kind).created + getattr(self, kind).updated
        if self.history is not None:
            flat["history_emails_fetched"] = self.history.emails_fetched
            flat["history_emails_written"] = self.history.emails_written
            flat["history_leads_fetched"] = self.history.leads_fetched
        flat["requests"] = self.requests
        return flat

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (Celery results, the API)."""
        data = dataclasses.asdict(self)
        data["changed"] = self.changed
        data["duration"] = round(self.duration, 3)
        return data

    def summary(self) -> str:
        lines = [f"Workspace {self.workspace_name or '?'} ({self.workspace_id or '?'})"]
        labels = {
            "campaigns": "campaigns",
            "accounts": "mailboxes",
            "senders": "sender links",
            "analytics": "campaign totals",
            "campaign_daily": "campaign daily rows",
            "campaign_steps": "campaign step rows",
            "account_daily": "mailbox daily rows",
            "lead_labels": "custom lead labels",
        }
        for kind, label in labels.items():
            lines.append(f"  {label:<20} {getattr(self, kind)}")
        lines.append(f"  figures fetched for {self.figures_fetched} campaign(s)")
        if self.history is not None:
            lines.append(f"  {self.history.summary()}")
        lines.append(f"  {self.requests} API request(s) in {self.duration:.1f} s")
        return "\n".join(lines)
