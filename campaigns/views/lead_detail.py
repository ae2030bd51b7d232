"""One lead's page: who they are, what their status means, every campaign they are in, what
happened to them, and their conversations (rendered by the messaging layer's tag)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from campaigns import interest
from campaigns.models import Activity, Lead, LeadStatus

from .access import portal_page

TIMELINE_LIMIT = 200

# What each status means, in words a customer reads once and understands.
STATUS_EXPLANATIONS = {
    LeadStatus.ACTIVE: "In the sequence: Instantly will send the next step when it is due.",
    LeadStatus.PAUSED: "Sending to this lead is paused (by hand or because the campaign is).",
    LeadStatus.COMPLETED: "Every step was sent, or the lead replied and the sequence stopped.",
    LeadStatus.BOUNCED: "An email bounced: the address does not accept mail, so no more is sent.",
    LeadStatus.UNSUBSCRIBED: "The lead asked not to be written to again (or reported spam).",
    LeadStatus.SKIPPED: "Instantly skipped the lead (already in another campaign, blocklisted, "
    "or an invalid address).",
    LeadStatus.ERROR: "Instantly could not send to this lead (an error on the sending mailbox "
    "or the lead's data); nothing more is sent until the cause is fixed in Instantly.",
}


def can_write(request) -> bool:
    membership = getattr(request, "membership", None)
    return bool(request.is_agency_staff or (membership is not None and membership.can_write))


def _get_lead_for_user(request, pk) -> Lead:
    """The lead when it belongs to the organization the page acts for; 404 otherwise."""
    return get_object_or_404(
        Lead.objects.filter(organization=request.organization).select_related(
            "contact", "campaign"
        ),
        pk=pk,
    )


@portal_page
@require_GET
def lead_detail(request, pk):
    lead = _get_lead_for_user(request, pk)
    org = request.organization
    campaigns = (
        Lead.objects.filter(organization=org, contact_id=lead.contact_id)
        .select_related("campaign")
        .defer("raw", "campaign__raw", "campaign__sequences", "campaign__analytics")
        .order_by("campaign__name")
    )
    timeline = (
        Activity.objects.filter(organization=org, contact_id=lead.contact_id)
        .select_related("campaign")
        .only("kind", "occurred_at", "step", "variant", "data", "campaign__name", "campaign_id")
        .order_by("-occurred_at", "-pk")[:TIMELINE_LIMIT]
    )
    variables = {**(lead.contact.custom_variables or {})}
    return render(
        request,
        "portal/lead_detail.html",
        {
            "lead": lead,
            "contact": lead.contact,
            "variables": sorted(variables.items()),
            "status_explanation": STATUS_EXPLANATIONS.get(lead.status, ""),
            "campaign_leads": campaigns,
            "timeline": timeline,
            "can_write": can_write(request),
            "interest_choices": interest.SETTABLE,
            "custom_labels": interest.custom_labels(org.pk),
        },
    )


@portal_page
@require_POST
def lead_interest(request, pk):
    """Set interest from the lead page or a thread; pushed to Instantly first."""
    lead = _get_lead_for_user(request, pk)
    if not can_write(request):
        raise PermissionDenied("Your role in this organization is read-only.")
    choice = interest.parse_choice(request.POST.get("interest_status", ""), lead.organization_id)
    if choice is None:
        flash.error(request, "That is not an interest status.")
    else:
        try:
            interest.set_interest(lead, *choice, user=request.user)
        except interest.InterestNotPushed as exc:
            flash.error(request, f"Interest not changed. {exc.reason}")
        else:
            flash.success(request, "Interest updated in Instantly.")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("portal:lead", pk=lead.pk)
