"""Leads: every contact in every campaign of the organization, searchable, exportable as CSV."""

from __future__ import annotations

import csv
import unicodedata

from django import forms
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns.models import Campaign, InterestStatus, Lead, LeadStatus

from .access import portal_page
from .period import without_period

# Short enough that a page stays readable on a phone (each lead is a card there).
PAGE_SIZE = 20
SORTS = {
    "": ("Latest activity", [F("last_activity").desc(nulls_last=True)]),
    "name": ("Name", ["contact__first_name", "contact__last_name"]),
    "email": ("Email", ["contact__email"]),
    "status": ("Status", ["status"]),
    "interest": ("Interest", [F("interest_status_at").desc(nulls_last=True)]),
    "campaign": ("Campaign", ["campaign__name"]),
    "score": ("Score (highest first)", ["-score", F("last_activity").desc(nulls_last=True)]),
}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): the
# usual four, `;` (Excel splits on it in German locales), and tab, CR and LF (DDE payloads).
FORMULA_PREFIXES = frozenset("=+-@;\t\r\n")


class LeadFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.unscoped().none(), required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *LeadStatus.choices])
    interest = forms.ChoiceField(
        required=False, choices=[("", "Any interest"), ("none", "Not set"), *InterestStatus.choices]
    )
    min_score = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Score at least"
    )
    sort = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (label, _) in SORTS.items()], label="Sort by"
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=organization).only(
            "id", "name", "instantly_id"
        )
        self.fields["campaign"].empty_label = "All campaigns"


def filtered_leads(request) -> tuple[LeadFilterForm, object]:
    """The leads matching the filter form (shared by the page and the CSV export)."""
    org = request.organization
    form = LeadFilterForm(request.GET or None, organization=org)
    leads = (
        Lead.objects.filter(organization=org)
        .select_related("contact", "campaign")
        # Only what the list shows: fewer columns to fetch, parse and turn into models.
        .only(
            "organization_id",
            "campaign_id",
            "contact_id",
            "status",
            "interest_status",
            "interest_label",
            "interest_status_at",
            "last_activity_at",
            "score",
            "do_not_contact",
            "campaign__name",
            "campaign__instantly_id",
            "contact__email",
            "contact__first_name",
            "contact__last_name",
            "contact__company_name",
            "contact__last_activity_at",
        )  # fmt: skip
        .annotate(last_activity=Coalesce("last_activity_at", "contact__last_activity_at"))
        .order_by(F("last_activity").desc(nulls_last=True), "contact__email", "pk")
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        # Every word must match the email, a name or the company ("jane acme" finds Jane at Acme).
        for term in data["q"].split():
            leads = leads.filter(
                Q(contact__email__icontains=term)
                | Q(contact__first_name__icontains=term)
                | Q(contact__last_name__icontains=term)
                | Q(contact__company_name__icontains=term)
            )
        if data["campaign"]:
            leads = leads.filter(campaign=data["campaign"])
        if data["status"]:
            leads = leads.filter(status=data["status"])
        if data["interest"] == "none":
            leads = leads.filter(interest_status="")
        elif data["interest"]:
            leads = leads.filter(interest_status=data["interest"])
        if data.get("min_score") is not None:
            leads = leads.filter(score__gte=data["min_score"])
        if data.get("sort"):
            leads = leads.order_by(*SORTS[data["sort"]][1], "contact__email", "pk")
    return form, leads


@portal_page
@require_GET
def lead_list(request):
    form, leads = filtered_leads(request)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/lead_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": bool(without_period(query)),
        },
    )


def spreadsheet_cell(value) -> str:
    """The value as a CSV cell no spreadsheet runs as a formula: a leading `'` when it would.

    Blanks in front are skipped (importers trim them) and the first sign is NFKC-folded, so the
    full-width `＝` and the small `﹦` count as `=`.
    """
    text = "" if value is None else str(value)
    start = text.lstrip(" \u00a0\u3000")[:1]
    if start and (
        start in FORMULA_PREFIXES or unicodedata.normalize("NFKC", start)[:1] in FORMULA_PREFIXES
    ):
        return "'" + text
    return text


@portal_page
@require_GET
def lead_export(request):
    """The current filter as CSV, built in full inside the request.

    Not streamed on purpose: the tenant scope (and its transaction) ends when the response
    leaves the middleware, so a lazy body would run its queries with no tenant at all.
    """
    _form, leads = filtered_leads(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"leads-{request.organization.slug}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "email",
            "first_name",
            "last_name",
            "company",
            "campaign",
            "status",
            "interest_status",
            "score",
            "last_activity_at",
        ]
    )
    rows = leads.values_list(
        "contact__email",
        "contact__first_name",
        "contact__last_name",
        "contact__company_name",
        "campaign__name",
        "status",
        "interest_status",
        "score",
        "last_activity",
    )
    for row in rows:
        *text, score, last_activity = row
        writer.writerow(
            [spreadsheet_cell(v) for v in text]
            + [score, last_activity.isoformat() if last_activity else ""]
        )
    return response
