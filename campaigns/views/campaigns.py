"""Campaign pages: the list with status and key rates, and one campaign in detail."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, IntegerField, Max, Min, Value, When
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns import stats
from campaigns.interest_totals import interest_totals
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    CampaignStepStat,
    InterestStatus,
    Lead,
    LeadStatus,
)
from campaigns.templatetags.variants import variant_letter

from .access import HEAVY_CAMPAIGN_FIELDS, portal_page
from .dashboard import activity_chart, figure_cards
from .formatting import NOTHING, number, percent, rate_of_sent
from .period import Period, period_from_request, preset_choices

# Running campaigns first, then those that need attention, then the rest.
STATUS_ORDER = Case(
    When(status=CampaignStatus.ACTIVE, then=Value(0)),
    When(status=CampaignStatus.RUNNING_SUBSEQUENCES, then=Value(0)),
    When(
        status__in=[
            CampaignStatus.ACCOUNTS_UNHEALTHY,
            CampaignStatus.BOUNCE_PROTECT,
            CampaignStatus.ACCOUNT_SUSPENDED,
        ],
        then=Value(1),
    ),
    When(status=CampaignStatus.PAUSED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)

STATUS_TONE = {
    CampaignStatus.ACTIVE: "good",
    CampaignStatus.RUNNING_SUBSEQUENCES: "good",
    CampaignStatus.PAUSED: "warn",
    CampaignStatus.ACCOUNTS_UNHEALTHY: "bad",
    CampaignStatus.BOUNCE_PROTECT: "bad",
    CampaignStatus.ACCOUNT_SUSPENDED: "bad",
}


def _get_campaign_for_user(request, pk) -> Campaign:
    """The campaign when it belongs to the organization the page acts for; 404 otherwise
    (another tenant's campaign must look exactly like one that does not exist)."""
    return get_object_or_404(Campaign.objects.filter(organization=request.organization), pk=pk)


def status_tone(status: str) -> str:
    return STATUS_TONE.get(status, "neutral")


@portal_page
@require_GET
def campaign_list(request):
    """Every campaign of the organization with its figures over the chosen period."""
    period, form = period_from_request(request, allow_all=True)
    campaigns = stats.with_totals(
        Campaign.objects.filter(organization=request.organization).defer(*HEAVY_CAMPAIGN_FIELDS),
        period.start,
        period.end,
    ).order_by(STATUS_ORDER, "name")
    rows = []
    for campaign in campaigns:
        rates = stats.campaign_rates(campaign)
        rows.append(
            {
                "campaign": campaign,
                "tone": status_tone(campaign.status),
                "sent": number(campaign.total_sent),
                # Without tracking Instantly counts nothing: say "off", not 0%.
                # Nothing sent in the period: "—", there is no rate to show.
                "open_rate": rate_of_sent(rates["open_rate"], campaign.total_sent)
                if campaign.open_tracking is not False
                else "Off",
                "click_rate": rate_of_sent(rates["click_rate"], campaign.total_sent)
                if campaign.link_tracking is not False
                else "Off",
                "reply_rate": rate_of_sent(rates["reply_rate"], campaign.total_sent),
                "bounce_rate": rate_of_sent(rates["bounce_rate"], campaign.total_sent),
                "bounce_high": rates["bounce_rate"] >= 0.03,
                "interested": number(campaign.total_interested),
                "meetings": number(campaign.total_meetings_booked),
            }
        )
    return render(
        request,
        "portal/campaign_list.html",
        {"rows": rows, "period": period, "form": form, "presets": preset_choices(True)},
    )


def _sequence_subjects(campaign: Campaign) -> dict[tuple[int, int], str]:
    """Subject line of each (step, variant), read defensively from the synced sequences."""
    subjects = {}
    try:
        steps = (campaign.sequences or [{}])[0].get("steps") or []
        for s, step in enumerate(steps, start=1):
            for v, variant in enumerate(step.get("variants") or [], start=1):
                subjects[(s, v)] = str(variant.get("subject") or "")
    except (AttributeError, IndexError, TypeError):
        return {}
    return subjects


def _step_rows(request, campaign: Campaign, period: Period) -> tuple[list[dict], str, str]:
    """Per step and variant: Instantly's step analytics when synced, else counted messages.

    Also answers where the figures come from and the days they cover: Instantly's step
    analytics have no dates, so they are all time whatever the page's period; counted messages
    follow it.
    """
    source = "From Instantly's step analytics, over the campaign's whole life"
    covers = "all time"
    rows = list(
        CampaignStepStat.objects.filter(organization=request.organization, campaign=campaign)
        .order_by("step", "variant")
        .values(
            "step",
            "variant",
            "sent",
            "unique_opened",
            "unique_clicked",
            "replied",
            "unique_replied",
            "opportunities",
        )  # fmt: skip
    )
    if not rows:
        source = "Counted from the emails Salesbrain holds"
        covers = period.label.lower()
        rows = stats.counted_step_rows(request.organization, campaign, period.start, period.end)
    subjects = _sequence_subjects(campaign)
    result = []
    for row in rows:
        counts = dict.fromkeys(stats.COUNTERS, 0)
        counts.update({k: v or 0 for k, v in row.items() if k in counts})
        rates = stats.StatSummary(counts).rates()
        variant = row.get("variant") or 1
        result.append(
            {
                "step": row["step"],
                "variant": variant_letter(variant),
                "subject": subjects.get((row["step"], variant), ""),
                "sent": number(counts["sent"]),
                # Counted messages know no opens or clicks: "—" rather than 0%.
                "open_rate": percent(rates["open_rate"]) if counts["unique_opened"] else NOTHING,
                "click_rate": percent(rates["click_rate"]) if counts["unique_clicked"] else NOTHING,
                "reply_rate": rate_of_sent(rates["reply_rate"], counts["sent"]),
                "replied": number(counts["unique_replied"] or counts["replied"]),
                "opportunities": number(row.get("opportunities") or 0),
            }
        )
    return result, source, covers


def _breakdown(qs, field: str, choices) -> list[dict]:
    """Leads per value of `field` (blank left out), largest first, bars scaled to the largest."""
    counts = {
        row[field]: row["n"]
        for row in qs.exclude(**{field: ""}).values(field).annotate(n=Count("pk")).order_by(field)
    }
    peak = max(counts.values(), default=0) or 1
    labels = dict(choices)
    return [
        {
            "value": value,
            "label": labels.get(value, value),
            "count": n,
            "width": max(2, round(n * 100 / peak)),
        }
        for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _chart_period(daily, period: Period) -> tuple[dt.date, dt.date]:
    """The days to chart: the period, or for all time the campaign's first to last day."""
    if not period.is_all_time:
        return period.start, period.end
    bounds = daily.aggregate(first=Min("date"), last=Max("date"))
    today = timezone.now().date()
    if bounds["first"] is None:
        return today - dt.timedelta(days=29), today
    # At most a year of bars, ending on the last day with figures.
    return max(bounds["first"], bounds["last"] - dt.timedelta(days=365)), bounds["last"]


@portal_page
@require_GET
def campaign_detail(request, pk):
    """One campaign: totals, daily chart, steps and variants, leads, mailboxes, replies."""
    org = request.organization
    campaign = _get_campaign_for_user(request, pk)
    period, form = period_from_request(request, allow_all=True)
    daily = CampaignDailyStat.objects.filter(organization=org, campaign=campaign)
    start, end = _chart_period(daily, period)
    series = stats.daily_series(daily, start, end)
    if period.is_all_time:
        totals = stats.summarize(daily)
        comparison = stats.PeriodComparison(start, end, totals, stats.StatSummary())
    else:
        comparison = stats.compare_with_previous(daily, period.start, period.end)
    untracked = {
        key
        for key, tracked in (
            ("open_rate", campaign.open_tracking),
            ("click_rate", campaign.link_tracking),
        )
        if tracked is False
    }
    cards = figure_cards(comparison, series, frozenset(untracked))
    leads = Lead.objects.filter(organization=org, campaign=campaign)
    steps, steps_source, steps_period = _step_rows(request, campaign, period)
    senders = (
        CampaignSender.objects.filter(organization=org, campaign=campaign)
        .select_related("email_account")
        .defer("email_account__raw", "email_account__warmup", "email_account__status_message")
        .order_by("email_account__email")
    )
    return render(
        request,
        "portal/campaign_detail.html",
        {
            "campaign": campaign,
            "tone": status_tone(campaign.status),
            "period": period,
            "form": form,
            "presets": preset_choices(True),
            "cards": cards,
            "compare": not period.is_all_time,
            "previous_label": f"previous {period.days} days" if period.days else "",
            "chart": activity_chart(series, f"Daily activity of {campaign}"),
            "series": series,
            "steps": steps,
            "steps_source": steps_source,
            "steps_period": steps_period,
            "lead_status": _breakdown(leads, "status", LeadStatus.choices),
            "lead_interest": _breakdown(leads, "interest_status", InterestStatus.choices),
            "senders": [s.email_account for s in senders],
            "interest_totals": interest_totals(campaign),
        },
    )
