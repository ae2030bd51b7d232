"""Sent and replied emails per step and variant, counted from messages: the campaign page's step
table when Instantly's step analytics have not been synced. Registered with `campaigns.stats`."""

from __future__ import annotations

from django.db.models import Count, Q

from campaigns import stats

from .models import Message


def step_rows_from_messages(organization, campaign, start=None, end=None) -> list[dict]:
    """Counts of the emails dated from `start` to `end` (both included; None: no bound)."""
    messages = Message.objects.filter(
        organization=organization, campaign=campaign, step__isnull=False
    )
    if start is not None:
        messages = messages.filter(sent_at__date__gte=start)
    if end is not None:
        messages = messages.filter(sent_at__date__lte=end)
    return list(
        messages.values("step", "variant")
        .annotate(
            sent=Count("pk", filter=Q(direction=Message.Direction.OUTBOUND)),
            replied=Count("pk", filter=Q(direction=Message.Direction.INBOUND)),
        )
        .order_by("step", "variant")
    )


def register() -> None:
    stats.register_step_counter(step_rows_from_messages)
