"""`{% category_badge message_or_thread %}`, `{% hot_leads organization %}` and
`{% lead_score lead %}`.

The badge says what a reply is and how sure the categoriser was ("Out of office · back on
2 Dec", "Interested 93%"); hot leads are the organization's highest scores, for the dashboard
(a page of the campaigns layer, which reaches the layer above only through this tag).
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from campaigns.models import Lead

from ..scoring.store import explain_lead

register = template.Library()


@register.inclusion_tag("inbox/_category_badge.html")
def category_badge(item, show_confidence=True):
    """`item` is a Message or a Thread (both have category, confidence and returns_on)."""
    category = getattr(item, "category", "")
    confidence = getattr(item, "category_confidence", None)
    source = getattr(item, "category_source", "")
    return {
        "category": category,
        "label": item.get_category_display() if category else "",
        "confidence": round(confidence * 100) if confidence is not None else None,
        "show_confidence": show_confidence and source != "person",
        "by_person": source == "person",
        "returns_on": getattr(item, "returns_on", None),
    }


@register.inclusion_tag("inbox/_hot_leads.html")
def hot_leads(organization, limit=8):
    """The organization's highest-scoring leads (a score above 0)."""
    leads = (
        Lead.objects.filter(organization=organization, score__gt=0)
        .select_related("contact", "campaign")
        .only(
            "score",
            "interest_status",
            "campaign__name",
            "contact__email",
            "contact__first_name",
            "contact__last_name",
            "contact__company_name",
            "organization_id",
            "campaign_id",
            "contact_id",
        )  # fmt: skip
        .order_by("-score", "-last_activity_at", "pk")[:limit]
    )
    return {"leads": list(leads)}


@register.inclusion_tag("inbox/_lead_score.html")
def lead_score(lead, compact=False):
    """A lead's score and why (the lead page of the campaigns layer, and the thread page)."""
    return {"lead": lead, "lines": explain_lead(lead, timezone.now()), "compact": compact}
