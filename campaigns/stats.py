"""Campaign figures: totals, rates, period comparison and daily series.

One place computes what the dashboard, the campaign pages and the API all show, from daily
rows with the same counters: `CampaignDailyStat` for a campaign, `OrganizationDailyStat` (the
organizations' ledger, see `daily_totals`) for a whole organization or every one. Querysets
passed in are already tenant-scoped by the caller.
Rates are per email sent: open, click and reply rates use unique counts, bounce rate raw bounces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Sum

from .models import CampaignDailyStat

COUNTERS = CampaignDailyStat.COUNTERS
# The days a report may cover: before 2000 nothing was sent, and near year 1 or 9999 the
# previous period of a comparison would leave the calendar Python can count.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(frozen=True)
class StatSummary:
    """Counter totals over some rows, and the rates derived from them."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def __getattr__(self, name: str) -> int:
        counts = self.__dict__.get("counts", {})
        if name in counts:
            return counts[name]
        raise AttributeError(name)

    @property
    def open_rate(self) -> float:
        return _rate(self.counts["unique_opened"], self.counts["sent"])

    @property
    def click_rate(self) -> float:
        return _rate(self.counts["unique_clicked"], self.counts["sent"])

    @property
    def reply_rate(self) -> float:
        replied = self.counts["unique_replied"] or self.counts["replied"]
        return _rate(replied, self.counts["sent"])

    @property
    def bounce_rate(self) -> float:
        return _rate(self.counts["bounced"], self.counts["sent"])

    def rates(self) -> dict[str, float]:
        return {
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
            "reply_rate": self.reply_rate,
            "bounce_rate": self.bounce_rate,
        }

    def as_dict(self) -> dict:
        return {**self.counts, **self.rates()}


def summarize(daily: QuerySet[CampaignDailyStat]) -> StatSummary:
    """Sum every counter over `daily` in one query."""
    totals = daily.aggregate(**{name: Sum(name) for name in COUNTERS})
    return StatSummary({name: totals[name] or 0 for name in COUNTERS})


def in_period(daily: QuerySet[CampaignDailyStat], start: dt.date, end: dt.date):
    """Rows from `start` to `end`, both included."""
    return daily.filter(date__gte=start, date__lte=end)


@dataclass(frozen=True)
class PeriodComparison:
    start: dt.date
    end: dt.date
    current: StatSummary
    previous: StatSummary

    def change(self, name: str) -> float | None:
        """Relative change of a counter against the previous period (None: no base)."""
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if not before:
            return None
        return round((now - before) / before, 4)

    def point_change(self, name: str) -> float | None:
        """Difference of a rate with the previous period (0.225 is +22.5 percentage points).

        A relative change of a rate ("+57.5%" from 39.1% to 61.6%) reads like a third rate; the
        difference does not. None when either period sent nothing: that rate does not exist.
        """
        if not (self.current.sent and self.previous.sent):
            return None
        return round(getattr(self.current, name) - getattr(self.previous, name), 4)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before [start, end]."""
    prev_end = start - dt.timedelta(days=1)
    return prev_end - (end - start), prev_end


def compare_with_previous(
    daily: QuerySet[CampaignDailyStat], start: dt.date, end: dt.date
) -> PeriodComparison:
    """Figures for [start, end] and for the period of the same length just before it."""
    return period_figures(daily, start, end)[0]


def daily_series(daily: QuerySet[CampaignDailyStat], start: dt.date, end: dt.date) -> list[dict]:
    """One entry per day from `start` to `end` (missing days are zeros), summed over campaigns."""
    return _series(_sums_by_day(daily, start, end), start, end)


def period_figures(
    daily: QuerySet[CampaignDailyStat], start: dt.date, end: dt.date
) -> tuple[PeriodComparison, list[dict]]:
    """`compare_with_previous` and `daily_series` from one query: the day-by-day sums of both
    periods, added up here. Over every organization (staff) the rows are the cost, and this
    reads them once instead of three times (bench/api_latency.py --large)."""
    prev_start, prev_end = previous_period(start, end)
    by_day = _sums_by_day(daily, prev_start, end)
    comparison = PeriodComparison(
        start=start,
        end=end,
        current=_total(by_day, start, end),
        previous=_total(by_day, prev_start, prev_end),
    )
    return comparison, _series(by_day, start, end)


def _sums_by_day(daily: QuerySet[CampaignDailyStat], start: dt.date, end: dt.date) -> dict:
    rows = (
        in_period(daily, start, end)
        .values("date")
        .annotate(**{name: Sum(name) for name in COUNTERS})
        .order_by()
    )
    return {row["date"]: row for row in rows}


def _total(by_day: dict, start: dt.date, end: dt.date) -> StatSummary:
    days = [row for day, row in by_day.items() if start <= day <= end]
    return StatSummary({name: sum(row[name] or 0 for row in days) for name in COUNTERS})


def _series(by_day: dict, start: dt.date, end: dt.date) -> list[dict]:
    series = []
    day = start
    while day <= end:
        row = by_day.get(day, {})
        series.append({"date": day, **{name: row.get(name) or 0 for name in COUNTERS}})
        day += dt.timedelta(days=1)
    return series


def with_totals(campaigns: QuerySet, start: dt.date | None = None, end: dt.date | None = None):
    """Annotate each campaign with `total_<counter>` over its daily rows (optionally a period)."""
    condition = Q()
    if start:
        condition &= Q(daily_stats__date__gte=start)
    if end:
        condition &= Q(daily_stats__date__lte=end)
    return campaigns.annotate(
        **{f"total_{name}": Sum(f"daily_stats__{name}", filter=condition) for name in COUNTERS}
    )


def campaign_rates(campaign) -> dict[str, float]:
    """Rates of a campaign annotated by `with_totals`."""
    counts = {name: getattr(campaign, f"total_{name}") or 0 for name in COUNTERS}
    return StatSummary(counts).rates()


def default_period(today: dt.date | None = None, days: int = 30) -> tuple[dt.date, dt.date]:
    """The last `days` days up to today (UTC), the period pages show when none is chosen."""
    from django.utils import timezone

    end = today or timezone.now().date()
    return end - dt.timedelta(days=days - 1), end


# Per step and variant counts of sent and replied emails, for a campaign without Instantly's
# step analytics. Messages live a layer above (`messaging` registers the counter in its
# `ready()`); with none registered there is nothing to count. Messages carry their date, so
# these counts can follow a period (Instantly's step analytics cannot: they are all time).
_step_counter: Callable[..., list[dict]] | None = None


def register_step_counter(counter: Callable[..., list[dict]]) -> None:
    """`counter(organization, campaign, start, end)` answers rows of step, variant, sent and
    replied, for emails dated from `start` to `end` (both included; None: no bound)."""
    global _step_counter
    _step_counter = counter


def counted_step_rows(
    organization, campaign, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict]:
    return _step_counter(organization, campaign, start, end) if _step_counter else []
