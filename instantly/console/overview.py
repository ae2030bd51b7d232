"""The agency overview: one row per customer organization with the figures staff watch.

Each figure kind is one grouped query over every organization at once (`GROUP BY
organization_id`), never one query per row, so the page costs the same for 2 customers or 200.
The shared workspace's unassigned campaigns fall out of the same queries as the NULL group and
are shown as their own row on top.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from accounts.models import Organization
from campaigns.models import (
    Activity,
    Campaign,
    CampaignSender,
    CampaignStatus,
    MailboxStatus,
    OrganizationDailyStat,
)
from instantly.models import Alert

# Campaigns that are sending (or finishing their follow-ups) count as active.
ACTIVE_STATUSES = (CampaignStatus.ACTIVE, CampaignStatus.RUNNING_SUBSEQUENCES)
WINDOW_DAYS = 7


@dataclass
class CustomerRow:
    """The overview's figures for one organization (None: the shared workspace)."""

    organization: Organization | None
    active_campaigns: int = 0
    campaigns: int = 0
    sent_today: int = 0
    sent_7d: int = 0
    sent_prev_7d: int = 0
    replies_7d: int = 0
    replies_prev_7d: int = 0
    positive_7d: int = 0
    positive_prev_7d: int = 0
    mailboxes: int = 0
    unhealthy_mailboxes: int = 0
    open_alerts: int = 0
    last_reply_at: dt.datetime | None = None
    last_sync_at: dt.datetime | None = None

    @property
    def is_shared(self) -> bool:
        return self.organization is None

    @property
    def name(self) -> str:
        return self.organization.name if self.organization else "Shared workspace (unassigned)"

    @property
    def reply_rate_7d(self) -> float:
        return _rate(self.replies_7d, self.sent_7d)

    @property
    def reply_rate_prev_7d(self) -> float:
        return _rate(self.replies_prev_7d, self.sent_prev_7d)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(frozen=True)
class Windows:
    """Today and the two 7-day windows (UTC days, as the daily figures are kept)."""

    today: dt.date

    @property
    def start(self) -> dt.date:
        return self.today - dt.timedelta(days=WINDOW_DAYS - 1)

    @property
    def prev_start(self) -> dt.date:
        return self.start - dt.timedelta(days=WINDOW_DAYS)

    @property
    def prev_end(self) -> dt.date:
        return self.start - dt.timedelta(days=1)


def agency_overview(today: dt.date | None = None) -> list[CustomerRow]:
    """Every organization's row, plus the shared workspace's on top when it has campaigns.

    Six queries whatever the number of organizations: organizations, campaigns, daily figures,
    mailboxes, alerts, replies (the caller is staff: `unscoped()` reads every organization).
    The shared workspace's row covers its campaigns no customer owns yet.
    """
    windows = Windows(today or timezone.now().date())
    rows: dict[uuid.UUID | None, CustomerRow] = {None: CustomerRow(None)}
    for org in Organization.objects.order_by("name"):
        rows[org.pk] = CustomerRow(org)

    def row(org_id) -> CustomerRow | None:
        return rows.get(org_id)

    for r in _campaign_counts():
        if (target := row(r["organization_id"])) is not None:
            target.campaigns = r["campaigns"]
            target.active_campaigns = r["active"]
            target.last_sync_at = r["last_sync"]
    for r in _daily_figures(windows):
        if (target := row(r["organization_id"])) is not None:
            for name in (
                "sent_today", "sent_7d", "sent_prev_7d", "replies_7d", "replies_prev_7d",
                "positive_7d", "positive_prev_7d",
            ):  # fmt: skip
                setattr(target, name, r[name] or 0)
    for r in _mailbox_counts():
        if (target := row(r["organization_id"])) is not None:
            target.mailboxes = r["mailboxes"]
            target.unhealthy_mailboxes = r["unhealthy"]
    for r in _open_alerts():
        if (target := row(r["organization_id"])) is not None:
            target.open_alerts = r["n"]
    for r in _last_replies():
        if (target := row(r["organization_id"])) is not None:
            target.last_reply_at = r["last"]

    return list(rows.values())  # the shared workspace first, then customers by name


def _campaign_counts():
    return (
        Campaign.objects.unscoped()
        .filter(vanished_at__isnull=True)
        .values("organization_id")
        .annotate(
            campaigns=Count("pk"),
            active=Count("pk", filter=Q(status__in=ACTIVE_STATUSES)),
            last_sync=Max("synced_at"),
        )
        .order_by()
    )


def _daily_figures(windows: Windows):
    current = Q(date__gte=windows.start, date__lte=windows.today)
    previous = Q(date__gte=windows.prev_start, date__lte=windows.prev_end)
    return (
        OrganizationDailyStat.objects.unscoped()
        .filter(date__gte=windows.prev_start, date__lte=windows.today)
        .values("organization_id")
        .annotate(
            sent_today=Sum("sent", filter=Q(date=windows.today)),
            sent_7d=Sum("sent", filter=current),
            sent_prev_7d=Sum("sent", filter=previous),
            replies_7d=Sum("unique_replied", filter=current),
            replies_prev_7d=Sum("unique_replied", filter=previous),
            positive_7d=Sum("interested", filter=current),
            positive_prev_7d=Sum("interested", filter=previous),
        )
        .order_by()
    )


def _mailbox_counts():
    """Mailboxes in use = sending for at least one of the organization's live campaigns."""
    return (
        CampaignSender.objects.unscoped()
        .filter(campaign__vanished_at__isnull=True, email_account__vanished_at__isnull=True)
        .values("organization_id")
        .annotate(
            mailboxes=Count("email_account", distinct=True),
            unhealthy=Count(
                "email_account",
                distinct=True,
                filter=~Q(email_account__status=MailboxStatus.ACTIVE),
            ),
        )
        .order_by()
    )


def _open_alerts():
    return (
        Alert.objects.unscoped()
        .filter(resolved_at__isnull=True)
        .values("organization_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def _last_replies():
    return (
        Activity.objects.unscoped()
        .filter(kind=Activity.Kind.REPLIED)
        .values("organization_id")
        .annotate(last=Max("occurred_at"))
        .order_by()
    )
