"""Analytics rows computed from the activity log, in the shapes Instantly's endpoints answer.

Every row is a tally of activity: campaign totals, per day, per step and variant, per mailbox
and day. Unique counts are sets of lead ids, so they agree with the Unibox and the webhooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .common import Activity, CampaignData
from .leads import OPPORTUNITY

COUNTED_KINDS = frozenset(
    {"sent", "opened", "clicked", "replied", "auto_replied", "bounced", "unsubscribed"}
)


def campaign_row(
    campaign: dict[str, Any], data: CampaignData, start: date | None, end: date | None
) -> dict[str, Any] | None:
    """Totals of one campaign; None for a campaign that never sent (no row, as in Instantly)."""
    if not any(a.kind == "sent" for a in data.activity):
        return None
    tally = _tally(_in_range(data.activity, start, end), lambda a: "all").get("all")
    tally = tally or _Tally()
    opportunities = len(tally.opportunities)
    return {
        "campaign_id": campaign["id"],
        "campaign_name": campaign["name"],
        "campaign_status": campaign["status"],
        "campaign_is_evergreen": campaign["is_evergreen"],
        "leads_count": len(data.leads),
        "contacted_count": len(tally.contacted),
        "new_leads_contacted_count": len(tally.new_leads),
        "emails_sent_count": tally.sent,
        "open_count": tally.opened,
        "open_count_unique": len(tally.unique_opened),
        "reply_count": tally.replies,
        "reply_count_unique": len(tally.unique_replies),
        "reply_count_automatic": tally.auto_replies,
        "link_click_count": tally.clicks,
        "link_click_count_unique": len(tally.unique_clicks),
        "bounced_count": tally.bounced,
        "unsubscribed_count": tally.unsubscribed,
        "completed_count": sum(1 for lead in data.leads.values() if lead["status"] == 3),
        "total_opportunities": opportunities,
        "total_opportunity_value": opportunities * campaign["pl_value"],
    }


def daily_rows(
    activity: Iterable[Activity], start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """One row per day with activity."""
    tallies = _tally(_in_range(activity, start, end), lambda a: a.at.date().isoformat())
    return [{"date": day, **tallies[day].daily_row()} for day in sorted(tallies)]


def step_rows(
    activity: Iterable[Activity],
    start: date | None,
    end: date | None,
    include_opportunities: bool = False,
) -> list[dict[str, Any]]:
    """One row per (step, variant), as strings the way Instantly documents them: `step` is the
    step number as webhooks give it (the example is "1"), `variant` starts from 0 (0 = A).
    Opportunities only with `include_opportunities` (`include_opportunities_count=true`)."""
    tallies = _tally(_in_range(activity, start, end), lambda a: (a.step, a.variant))
    rows = []
    for step, variant in sorted(tallies):
        tally = tallies[(step, variant)]
        row = {"step": str(step), "variant": str(variant - 1), **tally.step_row()}
        if not include_opportunities:
            for name in ("opportunities", "unique_opportunities"):
                row.pop(name)
        rows.append(row)
    return rows


def account_daily_rows(
    activity: Iterable[Activity], start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """One row per (day, mailbox) with activity."""
    tallies = _tally(_in_range(activity, start, end), lambda a: (a.at.date(), a.eaccount))
    return [
        {
            "date": day.isoformat(),
            "email_account": account,
            **tallies[(day, account)].account_row(),
        }
        for day, account in sorted(tallies)
    ]


@dataclass
class _Tally:
    """Counters of one analytics bucket; sets hold lead ids for the unique counts."""

    sent: int = 0
    opened: int = 0
    replies: int = 0
    auto_replies: int = 0
    clicks: int = 0
    bounced: int = 0
    unsubscribed: int = 0
    contacted: set = field(default_factory=set)
    new_leads: set = field(default_factory=set)
    unique_opened: set = field(default_factory=set)
    unique_replies: set = field(default_factory=set)
    unique_auto_replies: set = field(default_factory=set)
    unique_clicks: set = field(default_factory=set)
    opportunities: set = field(default_factory=set)

    def add(self, a: Activity) -> None:
        if a.kind == "sent":
            self.sent += 1
            self.contacted.add(a.lead_id)
            if a.step == 1:
                self.new_leads.add(a.lead_id)
        elif a.kind == "opened":
            self.opened += 1
            self.unique_opened.add(a.lead_id)
        elif a.kind == "clicked":
            self.clicks += 1
            self.unique_clicks.add(a.lead_id)
        elif a.kind == "replied":
            self.replies += 1
            self.unique_replies.add(a.lead_id)
        elif a.kind == "auto_replied":
            self.auto_replies += 1
            self.unique_auto_replies.add(a.lead_id)
        elif a.kind == "bounced":
            self.bounced += 1
        elif a.kind == "unsubscribed":
            self.unsubscribed += 1
        elif a.kind == "interest" and a.value == OPPORTUNITY:
            self.opportunities.add(a.lead_id)

    def step_row(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            **self._engagement(),
            "opportunities": len(self.opportunities),
            "unique_opportunities": len(self.opportunities),
        }

    def daily_row(self) -> dict[str, int]:
        return {
            "contacted": len(self.contacted),
            "new_leads_contacted": len(self.new_leads),
            **self.step_row(),
        }

    def account_row(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "bounced": self.bounced,
            "contacted": len(self.contacted),
            "new_leads_contacted": len(self.new_leads),
            **self._engagement(),
        }

    def _engagement(self) -> dict[str, int]:
        """What recipients did with the emails: the figures every kind of row has."""
        return {
            "opened": self.opened,
            "unique_opened": len(self.unique_opened),
            "replies": self.replies,
            "unique_replies": len(self.unique_replies),
            "replies_automatic": self.auto_replies,
            "unique_replies_automatic": len(self.unique_auto_replies),
            "clicks": self.clicks,
            "unique_clicks": len(self.unique_clicks),
        }


def _tally(activity: Iterable[Activity], key: Callable[[Activity], Any]) -> dict[Any, _Tally]:
    """Bucket activity by `key`; only activity that moves a counter opens a bucket."""
    tallies: dict[Any, _Tally] = {}
    for a in activity:
        if a.kind not in COUNTED_KINDS and not (a.kind == "interest" and a.value == OPPORTUNITY):
            continue
        bucket = key(a)
        tally = tallies.get(bucket)
        if tally is None:
            tally = tallies[bucket] = _Tally()
        tally.add(a)
    return tallies


def _in_range(activity: Iterable[Activity], start: date | None, end: date | None):
    for a in activity:
        day = a.at.date()
        if (start is None or day >= start) and (end is None or day <= end):
            yield a
