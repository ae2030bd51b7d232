"""Instantly's interest totals beside the ones Salesbrain's webhooks recorded, for one campaign.

Instantly's GET /campaigns/analytics/overview (kept in `Campaign.analytics_overview` by each
sync) counts interested leads, meetings booked and deals closed, each lead once per status by
default. Salesbrain counts the same from webhook deliveries (`CampaignDailyStat.interested`,
`meetings_booked`, and leads whose interest reached "closed"). Shown side by side, a gap says
deliveries were missed (or a lead was marked twice); Instantly's figure is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from .models import Activity, Campaign, CampaignDailyStat, InterestStatus


@dataclass(frozen=True)
class InterestTotal:
    label: str
    instantly: int | None  # None: no overview synced yet
    recorded: int


# (label, overview field, how Salesbrain counts it)
ROWS = (
    ("Interested", "total_interested", "interested"),
    ("Meetings booked", "total_meeting_booked", "meetings_booked"),
    ("Closed (won)", "total_closed", InterestStatus.CLOSED),
)


def interest_totals(campaign: Campaign) -> list[InterestTotal]:
    """One row per interest total; call inside a tenant or staff scope that sees the campaign."""
    overview = campaign.analytics_overview or {}
    daily = CampaignDailyStat.objects.unscoped().filter(campaign=campaign)
    sums = daily.aggregate(interested=Sum("interested"), meetings_booked=Sum("meetings_booked"))
    closed = (
        Activity.objects.unscoped()
        .filter(
            campaign=campaign,
            kind=Activity.Kind.INTEREST_CHANGED,
            data__interest_status=InterestStatus.CLOSED,
        )
        .values("lead_id")
        .distinct()
        .count()
    )
    recorded = {**{k: v or 0 for k, v in sums.items()}, InterestStatus.CLOSED: closed}
    return [
        InterestTotal(label, _count(overview.get(field)), recorded[ours])
        for label, field, ours in ROWS
    ]


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
