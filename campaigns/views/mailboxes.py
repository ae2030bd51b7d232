"""Mailboxes: health of the sending accounts this organization's campaigns use."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns import charts, mailbox_notes
from campaigns.mailbox_stats import mailbox_days
from campaigns.models import CampaignSender, EmailAccount, MailboxStatus, WarmupStatus

from .access import portal_page
from .formatting import percent

TREND_DAYS = 14
ERROR_STATUSES = {
    MailboxStatus.CONNECTION_ERROR,
    MailboxStatus.SOFT_BOUNCE_ERROR,
    MailboxStatus.SENDING_ERROR,
}
BAD_WARMUP = {WarmupStatus.BANNED, WarmupStatus.PERMANENT_SUSPENSION}


def mailboxes_for(organization):
    """Mailboxes the organization owns or whose campaigns send from (shared ones included)."""
    used = CampaignSender.objects.filter(organization=organization).values("email_account_id")
    return EmailAccount.objects.filter(Q(organization=organization) | Q(id__in=used))


def health(mailbox: EmailAccount, sent_today: int) -> tuple[str, str]:
    """(tone, reason): "bad" stops sending, "warn" deserves a look, "good" is fine."""
    if mailbox.status in ERROR_STATUSES or mailbox.warmup_status in BAD_WARMUP:
        return "bad", mailbox.get_status_display()
    if mailbox.status != MailboxStatus.ACTIVE:
        return "warn", mailbox.get_status_display()
    if mailbox.warmup_score is not None and mailbox.warmup_score < 80:
        return "warn", "Low warmup score"
    if mailbox.daily_limit and sent_today >= mailbox.daily_limit:
        return "warn", "Daily limit reached"
    return "good", "Healthy"


@portal_page
@require_GET
def mailbox_list(request):
    org = request.organization
    today = timezone.now().date()
    mailboxes = list(mailboxes_for(org).defer("raw", "warmup").order_by("email"))
    ids = [m.pk for m in mailboxes]

    # A few queries for every mailbox at once: daily figures of the last two weeks (of a
    # shared mailbox, only this organization's sends; staff see it whole), campaigns.
    daily = mailbox_days(
        mailboxes,
        today - dt.timedelta(days=TREND_DAYS - 1),
        today,
        organization_id=None if request.is_agency_staff else org.pk,
    )
    campaigns = defaultdict(list)
    for account_id, name in (
        CampaignSender.objects.filter(organization=org, email_account_id__in=ids)
        .order_by("campaign__name")
        .values_list("email_account_id", "campaign__name")
    ):
        campaigns[account_id].append(name)

    notes = mailbox_notes.notes_for(ids)
    days = [today - dt.timedelta(days=i) for i in range(TREND_DAYS - 1, -1, -1)]
    rows = []
    for mailbox in mailboxes:
        by_day = daily[mailbox.pk]
        sent_today = by_day.get(today, {}).get("sent", 0)
        sent_14 = sum(r["sent"] for r in by_day.values())
        bounced_14 = sum(r["bounced"] for r in by_day.values())
        tone, reason = health(mailbox, sent_today)
        limit = mailbox.daily_limit or 0
        rows.append(
            {
                "mailbox": mailbox,
                "tone": tone,
                "reason": reason,
                "sent_today": sent_today,
                "limit": limit,
                "usage": min(100, round(sent_today * 100 / limit)) if limit else 0,
                "bounce_rate": percent(bounced_14 / sent_14) if sent_14 else "–",
                "bounce_high": bool(sent_14) and bounced_14 / sent_14 >= 0.03,
                "spark": charts.sparkline(
                    [by_day.get(d, {}).get("sent", 0) for d in days], width=96, height=24
                ),
                "campaigns": campaigns[mailbox.pk],
                "note": notes.get(mailbox.pk, ""),
            }
        )
    tones = [r["tone"] for r in rows]
    summary = {
        "total": len(rows),
        "good": tones.count("good"),
        "warn": tones.count("warn"),
        "bad": tones.count("bad"),
        "sent_today": sum(r["sent_today"] for r in rows),
        "capacity": sum(r["limit"] for r in rows),
        "warmup": round(
            sum(m.warmup_score for m in mailboxes if m.warmup_score is not None)
            / max(1, sum(1 for m in mailboxes if m.warmup_score is not None))
        ),
    }
    return render(
        request,
        "portal/mailbox_list.html",
        {"rows": rows, "summary": summary, "trend_days": TREND_DAYS},
    )
