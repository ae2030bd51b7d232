"""What the operator status page shows: is processing keeping up, is each connection healthy.

One function per block of the page, each a few indexed queries run in a staff scope (the page
spans every organization and the shared workspace). The view only renders what these return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.utils import timezone

from accounts.tenancy import staff_scope
from instantly.models import Alert, ProviderConnection, SubscriptionState, SyncRun, WebhookEvent

Status = WebhookEvent.Status
WAITING = (Status.PENDING, Status.PROCESSING)
RECENT = 10
LAST_DELIVERY_WINDOW = dt.timedelta(days=7)


@dataclass
class TypeBacklog:
    event_type: str
    pending: int = 0
    processing: int = 0
    failed: int = 0


@dataclass
class Processing:
    pending: int
    processing: int
    failed: int
    oldest_pending_at: dt.datetime | None
    lag_seconds: float
    by_type: list[TypeBacklog] = field(default_factory=list)


@dataclass
class ConnectionState:
    connection: ProviderConnection
    last_delivery_at: dt.datetime | None
    last_run: SyncRun | None = None

    @property
    def subscription_disabled(self) -> bool:
        return self.connection.webhook_subscription_state in (
            SubscriptionState.DISABLED,
            SubscriptionState.MISSING,
        )


def processing_state(now: dt.datetime | None = None) -> Processing:
    now = now or timezone.now()
    with staff_scope():
        events = WebhookEvent.objects.unscoped()
        rows = list(
            events.filter(status__in=[*WAITING, Status.FAILED])
            .values("event_type", "status")
            .annotate(n=Count("id"))
        )
        oldest = events.filter(status__in=WAITING).aggregate(at=Min("received_at"))["at"]
    by_type: dict[str, TypeBacklog] = {}
    for row in rows:
        backlog = by_type.setdefault(row["event_type"], TypeBacklog(row["event_type"]))
        setattr(backlog, row["status"], row["n"])
    types = sorted(
        by_type.values(), key=lambda b: (-(b.pending + b.processing + b.failed), b.event_type)
    )
    return Processing(
        pending=sum(b.pending for b in types),
        processing=sum(b.processing for b in types),
        failed=sum(b.failed for b in types),
        oldest_pending_at=oldest,
        lag_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        by_type=types,
    )


def connection_states(now: dt.datetime | None = None) -> list[ConnectionState]:
    now = now or timezone.now()
    states = []
    with staff_scope():
        for connection in ProviderConnection.objects.unscoped().select_related("organization"):
            last = (
                WebhookEvent.objects.unscoped()
                .filter(connection=connection, received_at__gte=now - LAST_DELIVERY_WINDOW)
                .order_by("-received_at")
                .values_list("received_at", flat=True)
                .first()
            )
            run = SyncRun.objects.unscoped().filter(connection=connection).first()
            states.append(ConnectionState(connection, last_delivery_at=last, last_run=run))
    return states


def recent_failures() -> list[WebhookEvent]:
    with staff_scope():
        return list(
            WebhookEvent.objects.unscoped()
            .filter(status=Status.FAILED)
            .select_related("connection")
            .order_by("-received_at")[:RECENT]
        )


def failed_syncs() -> list[SyncRun]:
    with staff_scope():
        return list(
            SyncRun.objects.unscoped()
            .filter(outcome=SyncRun.Outcome.FAILED)
            .select_related("connection")[:RECENT]
        )


def open_alerts() -> list[Alert]:
    with staff_scope():
        return list(
            Alert.objects.unscoped()
            .filter(resolved_at__isnull=True)
            .select_related("connection", "email_account")
            .order_by("-created_at")[:RECENT]
        )
