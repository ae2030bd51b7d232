"""The dashboard: the organization's figures for a period against the period before, a daily
chart, the campaigns that sent most and the latest replies (the `latest_replies` tag of
`messaging`, the layer above)."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns import charts, stats
from campaigns.models import Campaign, OrganizationDailyStat

from .access import HEAVY_CAMPAIGN_FIELDS, portal_page
from .formatting import NOTHING, change, number, percent, points, rate_of_sent
from .period import period_from_request, preset_choices

# (figure, label, is it a rate, does going up mean better)
FIGURES = (
    ("sent", "Emails sent", False, True),
    ("open_rate", "Open rate", True, True),
    ("click_rate", "Click rate", True, True),
    ("reply_rate", "Reply rate", True, True),
    ("bounce_rate", "Bounce rate", True, False),
    ("interested", "Interested", False, True),
    ("meetings_booked", "Meetings booked", False, True),
)


@dataclass(frozen=True)
class FigureCard:
    key: str
    label: str
    value: str
    previous: str
    change: str
    trend: str  # "up", "down" or "flat"
    verdict: str  # "good", "bad" or "neutral"
    spark: str


def figure_cards(
    comparison: stats.PeriodComparison, series: list[dict], untracked: frozenset = frozenset()
) -> list[FigureCard]:
    """One card per figure: this period, the previous one, the change and a sparkline.

    Figures in `untracked` (a campaign without open or link tracking) say so instead of
    showing a misleading 0%. Rates change in percentage points and read "—" for a period that
    sent nothing; counts change relatively ("+100.0%", "new" from nothing).
    """
    # Each day's figures once (counters as they are, rates from stats), for the sparklines.
    daily = [
        {**day, **stats.StatSummary({k: day[k] for k in stats.COUNTERS}).rates()} for day in series
    ]
    cards = []
    for key, label, is_rate, up_is_good in FIGURES:
        if key in untracked:
            cards.append(FigureCard(key, label, "Not tracked", "", "", "flat", "neutral", ""))
            continue
        now, before = getattr(comparison.current, key), getattr(comparison.previous, key)
        if is_rate:
            value = rate_of_sent(now, comparison.current.sent)
            previous = rate_of_sent(before, comparison.previous.sent)
            difference = comparison.point_change(key)
            shown_change = points(difference)
            if difference is None:
                now = before = 0  # a side without sends has no rate to go up or down from
        else:
            value, previous = number(now), number(before)
            relative = comparison.change(key)
            shown_change = change(relative) if (relative is not None or now) else NOTHING
        trend = "up" if now > before else "down" if now < before else "flat"
        if trend == "flat":
            verdict = "neutral"
        else:
            verdict = "good" if (trend == "up") == up_is_good else "bad"
        cards.append(
            FigureCard(
                key=key,
                label=label,
                value=value,
                previous=previous,
                change=shown_change,
                trend=trend,
                verdict=verdict,
                spark=charts.sparkline([day[key] for day in daily]),
            )
        )
    return cards


def activity_chart(series: list[dict], title: str):
    """Sent as bars (left axis), replies as a line (right axis): replies are a few percent of
    sends and would lie flat on a shared axis."""
    sent = [day["sent"] for day in series]
    replies = [day["unique_replied"] or day["replied"] for day in series]
    description = (
        f"{sum(sent):,} emails sent and {sum(replies):,} replies between "
        f"{series[0]['date']:%b %d, %Y} and {series[-1]['date']:%b %d, %Y}."
        if series
        else "No data."
    )
    if sent and max(sent):
        peak = series[sent.index(max(sent))]["date"]
        description += f" Busiest day: {peak:%b %d} with {max(sent):,} sent."
    days = [day["date"] for day in series]
    table = charts.data_table(
        days,
        [
            ("Sent", sent),
            ("Opened", [day["unique_opened"] for day in series]),
            ("Clicked", [day["unique_clicked"] for day in series]),
            ("Replied", replies),
            ("Bounced", [day["bounced"] for day in series]),
            ("Interested", [day["interested"] for day in series]),
            ("Meetings", [day["meetings_booked"] for day in series]),
        ],
    )
    lines = [
        charts.Series("Sent", sent, kind="bar", color=charts.COLORS["blue"]),
        charts.Series("Replies", replies, kind="line", axis="right", color=charts.COLORS["orange"]),
    ]
    # Two drawings of the same chart; the stylesheet shows the one that fits the screen.
    return {
        "table": table,
        "wide": charts.daily_chart(
            days, lines, title=title, description=description, width=1140, height=300,
            css_class="chart-wide",
        ),
        "narrow": charts.daily_chart(
            days, lines, title=title, description=description, width=420, height=240,
            max_labels=4, css_class="chart-narrow",
        ),
    }  # fmt: skip


@portal_page
@require_GET
def dashboard(request):
    """Figures of the chosen period compared with the one just before it."""
    org = request.organization
    period, form = period_from_request(request)
    daily = OrganizationDailyStat.objects.filter(organization=org)
    comparison, series = stats.period_figures(daily, period.start, period.end)
    top_campaigns = [
        (campaign, stats.campaign_rates(campaign))
        for campaign in stats.with_totals(
            Campaign.objects.filter(organization=org).defer(*HEAVY_CAMPAIGN_FIELDS),
            period.start,
            period.end,
        )
        .filter(total_sent__gt=0)
        .order_by("-total_sent", "name")[:5]
    ]
    best_reply = max((r["reply_rate"] for _, r in top_campaigns), default=0)
    return render(
        request,
        "portal/dashboard.html",
        {
            "period": period,
            "form": form,
            "presets": preset_choices(),
            "cards": figure_cards(comparison, series),
            "chart": activity_chart(series, f"Daily activity, {period.label.lower()}"),
            "series": series,
            "top_campaigns": [
                {
                    "campaign": c,
                    "sent": number(c.total_sent),
                    "reply_rate": percent(r["reply_rate"]),
                    "reply_width": round(r["reply_rate"] * 100 / best_reply) if best_reply else 0,
                    "open_rate": percent(r["open_rate"]) if c.open_tracking is not False else "Off",
                }
                for c, r in top_campaigns
            ],
            "previous_label": f"previous {period.days} days",
        },
    )
