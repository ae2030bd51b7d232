"""`{% latest_replies %}`: the newest replied threads, for pages of the campaigns layer.

The dashboard and the campaign page (in `campaigns`, a layer below) show replies without
importing `messaging`: their templates load this tag, which is how the layer above plugs in.
"""

from __future__ import annotations

from django import template
from django.db.models import F

from campaigns.views.access import without_raw

from ..models import Thread

register = template.Library()


@register.inclusion_tag("inbox/_latest_replies.html")
def latest_replies(organization, campaign=None, period=None, limit=6, empty="No replies yet."):
    """The `limit` threads of `organization` (and `campaign`, if given) with the newest reply;
    with a `period` (campaigns' `Period`), only replies received in it, like the page's figures.
    """
    threads = Thread.objects.filter(organization=organization, has_reply=True)
    if period is not None and not period.is_all_time:
        threads = threads.filter(
            last_inbound_at__date__gte=period.start, last_inbound_at__date__lte=period.end
        )
    related = ["contact", "lead"]
    if campaign is not None:
        threads = threads.filter(campaign=campaign)
    else:
        related.append("campaign")
    threads = (
        threads.select_related(*related)
        .defer(*without_raw(*related))
        .order_by(F("last_inbound_at").desc(nulls_last=True), "-pk")[:limit]
    )
    return {"threads": list(threads), "per_campaign": campaign is not None, "empty": empty}


@register.inclusion_tag("inbox/_lead_threads.html")
def lead_threads(organization, contact_id):
    """Every conversation with this contact, newest first, for the lead page (campaigns)."""
    threads = (
        Thread.objects.filter(organization=organization, contact_id=contact_id)
        .select_related("campaign")
        .defer(*without_raw("campaign"))
        .order_by(F("last_message_at").desc(nulls_last=True), "-pk")
    )
    return {"threads": list(threads)}
