"""Sending volume: the bulk of a workspace's traffic as daily tallies, for demos that must look
like real cold email (hundreds of sends a day per campaign, replies in the low single digits).

Lead stories (`leads`) give every lead, Unibox email and webhook its detail, but a few dozen
leads per campaign cannot carry realistic rates. With `history_days` set, each campaign that
has sent also gets a seeded daily volume that is added to its analytics (campaign totals and
daily rows, per step rows, and its mailboxes' daily rows). Each campaign has its own quality,
so some campaigns are clearly better than others; weekends follow the campaign's schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Last day of sending, in days before now, by Instantly campaign status (None: never sent).
STOPPED_DAYS_AGO = {1: 0, 4: 0, 2: 10, 3: 30, -1: 5, -2: 3, 0: None, -99: None}
# Replies as a share of the leads contacted: campaigns land on a tier, clearly apart.
REPLY_TIERS = (0.012, 0.02, 0.03, 0.045, 0.065)
WEEKDAY_FACTOR = (1.0, 1.08, 1.1, 1.02, 0.9, 1.0, 1.0)  # Monday first
# Share of a day's sends per step (first emails to new leads, then the follow-ups).
STEP_SHARES = (0.45, 0.27, 0.17, 0.11)


@dataclass(frozen=True)
class VolumeDay:
    """One campaign day of volume (the same counters Instantly's daily analytics report)."""

    day: date
    sent: int
    contacted: int
    new_leads: int
    opened: int
    unique_opened: int
    replies: int
    unique_replies: int
    auto_replies: int
    clicks: int
    unique_clicks: int
    bounced: int
    unsubscribed: int
    opportunities: int


def _draw(rng: random.Random, n: int, p: float) -> int:
    """About n * p, with the spread a binomial draw has (normal approximation, never < 0)."""
    if n <= 0 or p <= 0:
        return 0
    mean = n * p
    return max(0, min(n, round(rng.gauss(mean, (mean * (1 - p)) ** 0.5))))


def campaign_volume(
    campaign: dict[str, Any], seed: int, index: int, today: date, history_days: int
) -> list[VolumeDay]:
    """The campaign's days of volume, oldest first (none for drafts and unknown statuses)."""
    stopped = STOPPED_DAYS_AGO.get(campaign["status"])
    if stopped is None or not campaign["sequences"][0]["steps"]:
        return []
    rng = random.Random(f"{seed}:volume:{index}")
    base = rng.uniform(70, 260)
    reply_rate = rng.choice(REPLY_TIERS)
    open_rate = rng.uniform(0.30, 0.60) if campaign["open_tracking"] else 0.0
    click_rate = rng.uniform(0.02, 0.06) if campaign["link_tracking"] else 0.0
    bounce_rate = rng.uniform(0.004, 0.025)
    positive = rng.uniform(0.20, 0.40)
    days_on = {
        int(d) for d, on in campaign["campaign_schedule"]["schedules"][0]["days"].items() if on
    }
    rows = []
    for ago in range(history_days - 1, stopped - 1, -1):
        day = today - timedelta(days=ago)
        weekday = day.weekday()  # Monday 0; Instantly's schedule counts from Sunday 0
        if (weekday + 1) % 7 not in days_on:
            continue
        sent = round(base * WEEKDAY_FACTOR[weekday] * rng.uniform(0.85, 1.15))
        sent = max(50, min(300, sent))
        contacted = round(sent * rng.uniform(0.9, 1.0))
        unique_replies = _draw(rng, contacted, reply_rate)
        unique_opened = _draw(rng, contacted, open_rate)
        unique_clicks = _draw(rng, unique_opened, click_rate / max(open_rate, 0.01))
        rows.append(
            VolumeDay(
                day=day,
                sent=sent,
                contacted=contacted,
                new_leads=round(sent * STEP_SHARES[0]),
                opened=round(unique_opened * rng.uniform(1.2, 1.6)),
                unique_opened=unique_opened,
                replies=unique_replies + _draw(rng, unique_replies, 0.1),
                unique_replies=unique_replies,
                auto_replies=_draw(rng, sent, 0.01),
                clicks=round(unique_clicks * 1.3),
                unique_clicks=unique_clicks,
                bounced=_draw(rng, sent, bounce_rate),
                unsubscribed=_draw(rng, sent, 0.002),
                opportunities=_draw(rng, unique_replies, positive),
            )
        )
    return rows


def add_daily(row: dict[str, Any], v: VolumeDay) -> None:
    """Add a volume day to an analytics row shaped like `analytics.daily_rows` gives."""
    for name, value in (
        ("sent", v.sent), ("contacted", v.contacted), ("new_leads_contacted", v.new_leads),
        ("opened", v.opened), ("unique_opened", v.unique_opened), ("replies", v.replies),
        ("unique_replies", v.unique_replies), ("replies_automatic", v.auto_replies),
        ("unique_replies_automatic", v.auto_replies), ("clicks", v.clicks),
        ("unique_clicks", v.unique_clicks), ("opportunities", v.opportunities),
        ("unique_opportunities", v.opportunities),
    ):  # fmt: skip
        row[name] = row.get(name, 0) + value


def add_totals(row: dict[str, Any], days: list[VolumeDay]) -> None:
    """Add volume days to a campaign totals row (`analytics.campaign_row`)."""
    sums = {
        "emails_sent_count": sum(v.sent for v in days),
        "contacted_count": sum(v.new_leads for v in days),
        "new_leads_contacted_count": sum(v.new_leads for v in days),
        "leads_count": sum(v.new_leads for v in days),
        "open_count": sum(v.opened for v in days),
        "open_count_unique": sum(v.unique_opened for v in days),
        "reply_count": sum(v.replies for v in days),
        "reply_count_unique": sum(v.unique_replies for v in days),
        "reply_count_automatic": sum(v.auto_replies for v in days),
        "link_click_count": sum(v.clicks for v in days),
        "link_click_count_unique": sum(v.unique_clicks for v in days),
        "bounced_count": sum(v.bounced for v in days),
        "unsubscribed_count": sum(v.unsubscribed for v in days),
        "total_opportunities": sum(v.opportunities for v in days),
    }
    for name, value in sums.items():
        row[name] = row.get(name, 0) + value


def _part(total: int, i: int, n: int) -> int:
    """Mailbox i's share of `total` over n mailboxes (remainders to the first ones)."""
    return total // n + (1 if i < total % n else 0)


def split_over_mailboxes(v: VolumeDay, mailboxes: list[str]) -> dict[str, dict[str, int]]:
    """A volume day shared out over the campaign's sending mailboxes (remainders to the
    first ones), as the mailbox daily rows count it."""
    share = {}
    n = len(mailboxes)
    for i, email in enumerate(mailboxes):
        share[email] = {
            "sent": _part(v.sent, i, n),
            "bounced": _part(v.bounced, i, n),
            "contacted": _part(v.contacted, i, n),
            "new_leads_contacted": _part(v.new_leads, i, n),
            "opened": _part(v.opened, i, n),
            "unique_opened": _part(v.unique_opened, i, n),
            "replies": _part(v.replies, i, n),
            "unique_replies": _part(v.unique_replies, i, n),
            "replies_automatic": _part(v.auto_replies, i, n),
            "unique_replies_automatic": _part(v.auto_replies, i, n),
            "clicks": _part(v.clicks, i, n),
            "unique_clicks": _part(v.unique_clicks, i, n),
        }
    return share
