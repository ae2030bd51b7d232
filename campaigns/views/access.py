"""Who may open a portal page, and the answer for those who cannot yet.

Every portal query filters explicitly by `request.organization`: a member's scope would already
hide other tenants' rows, but agency staff run with the row-level-security bypass, so the
explicit filter is what keeps a staff member "viewing as" one organization inside it.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.models import Organization


def portal_page(view):
    """Login required; a user without a current organization gets the friendly empty page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "organization", None) is None:
            return no_organization(request)
        return view(request, *args, **kwargs)

    return wrapper


def no_organization(request):
    """Staff pick an organization to view; anyone else is told whom to ask for access."""
    organizations = Organization.objects.order_by("name") if request.is_agency_staff else []
    return render(request, "portal/no_organization.html", {"organizations": organizations})


# Provider JSON kept on synced rows: never shown in lists, costly to fetch and decode per row.
HEAVY_CAMPAIGN_FIELDS = (
    "raw",
    "sequences",
    "schedule",
    "analytics",
    "analytics_overview",
    "sender_emails",
)


def without_raw(*relations: str) -> list[str]:
    """Field paths for `.defer()`: the heavy JSON of the related campaign, lead and contact."""
    fields = []
    for relation in relations:
        if relation == "campaign":
            fields += [f"campaign__{name}" for name in HEAVY_CAMPAIGN_FIELDS]
        elif relation == "lead":
            fields.append("lead__raw")
        elif relation == "contact":
            fields.append("contact__custom_variables")
    return fields
