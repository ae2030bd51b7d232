"""The console's home for staff: the agency overview (see `overview.py` for the figures).

Wired at `/admin/` in `salesbrain/urls.py`, ahead of the stock admin index, and wrapped by
`admin.site.admin_view` so only staff who may use the console reach it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from campaigns.views.formatting import percent

from .overview import ACTIVE_STATUSES, CustomerRow, Windows, agency_overview

# ?o=<key> (or -<key>) sorts the customers; the shared workspace's row stays on top.
SORT_KEYS = {
    "name": lambda r: r.name.lower(),
    "active": lambda r: r.active_campaigns,
    "today": lambda r: r.sent_today,
    "sent": lambda r: r.sent_7d,
    "reply_rate": lambda r: r.reply_rate_7d,
    "positive": lambda r: r.positive_7d,
    "mailboxes": lambda r: r.mailboxes,
    "unhealthy": lambda r: r.unhealthy_mailboxes,
    "alerts": lambda r: r.open_alerts,
    "last_reply": lambda r: r.last_reply_at.timestamp() if r.last_reply_at else 0,
    "last_sync": lambda r: r.last_sync_at.timestamp() if r.last_sync_at else 0,
}
COLUMNS = (
    ("name", "Customer"),
    ("active", "Active campaigns"),
    ("today", "Sent today"),
    ("sent", "Sent 7 d"),
    ("reply_rate", "Reply rate 7 d"),
    ("positive", "Positive 7 d"),
    ("mailboxes", "Mailboxes"),
    ("alerts", "Open alerts"),
    ("last_reply", "Last reply"),
    ("last_sync", "Last sync"),
)


def sort_rows(rows: list[CustomerRow], order: str) -> tuple[list[CustomerRow], str]:
    """Customers sorted by `order` (unknown keys: by name); returns the order applied."""
    key = order.lstrip("-")
    if key not in SORT_KEYS:
        key, order = "name", "name"
    shared = [r for r in rows if r.is_shared]
    customers = sorted(
        (r for r in rows if not r.is_shared), key=SORT_KEYS[key], reverse=order.startswith("-")
    )
    return [*shared, *customers], order


def _changelist(model: str, **params) -> str:
    return f"{reverse(f'admin:{model}_changelist')}?{urlencode(params)}"


def row_links(row: CustomerRow, windows: Windows) -> dict[str, str]:
    """The filtered list behind each figure of a row."""
    owner = (
        {"organization__isnull": "True"} if row.is_shared else {"organization": row.organization.pk}
    )
    used_by = "shared" if row.is_shared else row.organization.pk
    week = {"date__gte": windows.start.isoformat(), "date__lte": windows.today.isoformat()}
    return {
        "active": _changelist("campaigns_campaign", **owner, status__in=",".join(ACTIVE_STATUSES)),
        "today": _changelist("campaigns_campaigndailystat", **owner, date=windows.today),
        "week": _changelist("campaigns_campaigndailystat", **owner, **week),
        "mailboxes": _changelist("campaigns_emailaccount", used_by=used_by),
        "unhealthy": _changelist("campaigns_emailaccount", used_by=used_by, health="unhealthy"),
        "alerts": _changelist("instantly_alert", **owner, resolved="no"),
        "replies": _changelist("campaigns_activity", **owner, kind__exact="replied"),
        "sync": reverse("admin:instantly_providerconnection_changelist"),
        "organization": ""
        if row.is_shared
        else reverse("admin:accounts_organization_change", args=[row.organization.pk]),
    }


def agency_overview_view(request):
    windows = Windows(timezone.now().date())
    rows, order = sort_rows(agency_overview(windows.today), request.GET.get("o", "name"))
    context = {
        **admin.site.each_context(request),
        "title": "Agency overview",
        "rows": [
            (
                row,
                row_links(row, windows),
                {
                    "rate": percent(row.reply_rate_7d, 2),
                    "rate_prev": percent(row.reply_rate_prev_7d, 2),
                },
            )
            for row in rows
        ],
        "columns": [
            (key, label, f"-{key}" if order == key else key, order.lstrip("-") == key)
            for key, label in COLUMNS
        ],
        "order": order,
        "windows": windows,
    }
    return TemplateResponse(request, "admin/agency_overview.html", context)


agency_overview_page = admin.site.admin_view(agency_overview_view)
