"""Who is asking and for which organization: the user (session or API token), whether they are
agency staff, and the organization they act for (their selection, else their first)."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .models import Membership, Organization
from .roles import is_agency_staff

SESSION_ORG_KEY = "organization_id"


@dataclass
class ResolvedTenant:
    user: object | None
    is_staff: bool = False
    organization: Organization | None = None
    membership: Membership | None = None


def request_user(request):
    """The session user, or the user of a valid API token (DRF authenticates it again later)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    try:
        result = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return result[0] if result else None


def resolve_request_tenant(request) -> ResolvedTenant:
    user = request_user(request)
    if user is None:
        return ResolvedTenant(user=None)
    memberships = list(
        Membership.objects.filter(user=user).select_related("organization").order_by("created_at")
    )
    request.memberships = memberships
    staff = is_agency_staff(user)
    selected = request.session.get(SESSION_ORG_KEY) if hasattr(request, "session") else None
    membership = next((m for m in memberships if str(m.organization_id) == selected), None)
    if membership is None and memberships:
        membership = memberships[0]
    if staff:
        # Staff see everything; a selected organization is only a filter for the pages.
        return ResolvedTenant(
            user=user,
            is_staff=True,
            organization=membership.organization if membership and selected else None,
            membership=membership if selected else None,
        )
    return ResolvedTenant(
        user=user,
        organization=membership.organization if membership else None,
        membership=membership,
    )
