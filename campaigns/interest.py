"""Setting a lead's interest by hand: pushed to Instantly, then recorded as the newest state.

Instantly is the system of record for interest (its Unibox and its webhooks use it), so the
change is pushed first; only when Instantly accepted it is it recorded here, with
`interest_status_at` = now. Webhooks only move interest forward in time
(`recording.advance_lead_interest`), so a stale delivery that describes an older state cannot
undo the change. The push belongs to the provider layer (`instantly.interest`), which registers
it from its AppConfig.ready(); this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from .models import Activity, InterestStatus, Lead, LeadLabel

# Statuses a person may choose (CUSTOM comes with a label, from `custom_labels`).
SETTABLE = [choice for choice in InterestStatus.choices if choice[0] != InterestStatus.CUSTOM]


class InterestNotPushed(Exception):
    """Instantly did not take the change; `reason` is in plain words. Nothing was recorded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# (lead, interest status, custom label) -> None, or raises InterestNotPushed.
InterestPusher = Callable[[Lead, str, str], None]
_pusher: InterestPusher | None = None


def register_pusher(pusher: InterestPusher) -> None:
    global _pusher
    _pusher = pusher


def custom_labels(organization_id) -> list[str]:
    """Custom labels this organization may set: those of its own workspace's lead labels
    (GET /lead-labels, synced) and those its leads already carry (a shared workspace's labels
    belong to the agency; a customer sees the ones on its leads)."""
    carried = (
        Lead.objects.filter(organization_id=organization_id, interest_status=InterestStatus.CUSTOM)
        .exclude(interest_label="")
        .values_list("interest_label", flat=True)
        .distinct()
    )
    synced = LeadLabel.objects.filter(
        organization_id=organization_id, vanished_at__isnull=True
    ).values_list("label", flat=True)
    return sorted({*carried, *synced})


def parse_choice(value: str, organization_id) -> tuple[str, str] | None:
    """A form or API value -> (status, label): a status, "" to clear, or "label:<name>"."""
    value = (value or "").strip()
    if value.startswith("label:"):
        label = value.removeprefix("label:")
        return (InterestStatus.CUSTOM, label) if label in custom_labels(organization_id) else None
    if value == "" or value in dict(SETTABLE):
        return value, ""
    return None


def set_interest(lead: Lead, status: str, label: str = "", *, user=None) -> Lead:
    """Push the change to Instantly, then record it locally as the newest state."""
    if _pusher is None:
        raise InterestNotPushed("Changing interest is not set up on this server.")
    _pusher(lead, status, label)
    now = timezone.now()
    with transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(
            interest_status=status, interest_label=label, interest_status_at=now, updated_at=now
        )
        Activity.objects.create(
            organization_id=lead.organization_id,
            kind=Activity.Kind.INTEREST_CHANGED,
            occurred_at=now,
            campaign_id=lead.campaign_id,
            lead=lead,
            contact_id=lead.contact_id,
            data={
                "interest_status": status,
                "label": label,
                "by": getattr(user, "username", ""),
                "source": "salesbrain",
            },
        )
    lead.interest_status, lead.interest_label, lead.interest_status_at = status, label, now
    return lead
