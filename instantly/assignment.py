"""Assignment rules that only the provider layer knows: a campaign of a customer's own (dedicated)
Instantly workspace belongs to that customer alone.

Registered with `campaigns.assignment` from `InstantlyConfig.ready()`.
"""

from __future__ import annotations

from typing import Any

from campaigns.assignment import register_check
from campaigns.models import Campaign

from .models import ProviderConnection


def refuse_dedicated_workspace(campaign: Campaign, organization_id: Any) -> None:
    owner_id = (
        ProviderConnection.objects.unscoped()
        .filter(pk=campaign.connection_id)
        .values_list("organization_id", flat=True)
        .first()
    )
    if owner_id is not None and owner_id != organization_id:
        raise ValueError(
            f"campaign {campaign} is in a customer's own workspace; it cannot be reassigned"
        )


def register() -> None:
    register_check(refuse_dedicated_workspace)
