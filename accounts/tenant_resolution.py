"""Who is asking and for which organization: the user (session or API token), whether they are
agency staff, and the organization they act for (their selection, else their first)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rest_framework.exceptions import APIException

from . import auth_cache
from .api_tokens import authenticate_request_token
from .models import Membership, Organization
from .roles import SB_ADMIN, STAFF_GROUPS

SESSION_ORG_KEY = "organization_id"


@dataclass
class ResolvedTenant:
    user: object | None
    is_staff: bool = False
    organization: Organization | None = None
    membership: Membership | None = None


def request_user(request):
    """The user of a valid API token, else the session user, else None.

    Token first, like DRF's DEFAULT_AUTHENTICATION_CLASSES, so the tenant scope opened for the
    request and the user DRF authenticates are always the same person. An invalid or revoked
    token falls back to the session here; DRF answers 401 (or 429) for it before any view runs.
    """
    try:
        result = authenticate_request_token(request)
    except APIException:
        result = None
    if result is not None:
        return result[0]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


def user_principal(user) -> auth_cache.Principal:
    """The user's memberships and staff flags: one query for each, or none when cached.

    Both flags come from one query of the staff groups, and are left on the user object for
    `is_agency_staff` / `is_agency_admin`.
    """
    principal = auth_cache.cached_principal(user.pk)
    if principal is None:
        seen = auth_cache.generation()
        memberships = Membership.objects.filter(user=user).select_related("organization")
        groups = set()
        if user.is_active and not user.is_superuser:
            groups = set(user.groups.filter(name__in=STAFF_GROUPS).values_list("name", flat=True))
        principal = auth_cache.Principal(
            memberships=tuple(memberships.order_by("created_at")),
            is_staff=user.is_active and (user.is_superuser or bool(groups)),
            is_admin=user.is_active and (user.is_superuser or SB_ADMIN in groups),
        )
        auth_cache.store_principal(user.pk, principal, seen)
        principal = auth_cache.cached_principal(user.pk) or principal
    user._sb_is_staff = principal.is_staff
    user._sb_is_admin = principal.is_admin
    return principal


def _staff_selection(selected, memberships) -> Organization | None:
    """The organization a staff member chose to view as (stale or malformed choice: none)."""
    if not selected:
        return None
    for m in memberships:
        if str(m.organization_id) == selected:
            return m.organization
    try:
        return Organization.objects.filter(pk=uuid.UUID(str(selected))).first()
    except ValueError:
        return None


def resolve_request_tenant(request) -> ResolvedTenant:
    user = request_user(request)
    if user is None:
        return ResolvedTenant(user=None)
    principal = user_principal(user)
    memberships = list(principal.memberships)
    request.memberships = memberships
    staff = principal.is_staff
    selected = request.session.get(SESSION_ORG_KEY) if hasattr(request, "session") else None
    membership = next((m for m in memberships if str(m.organization_id) == selected), None)
    if membership is None and memberships:
        membership = memberships[0]
    if staff:
        # Staff see everything; the organization they chose to view (any, member or not) is
        # only a filter for the pages, which therefore filter by it explicitly.
        return ResolvedTenant(
            user=user,
            is_staff=True,
            organization=_staff_selection(selected, memberships),
            membership=next((m for m in memberships if str(m.organization_id) == selected), None),
        )
    return ResolvedTenant(
        user=user,
        organization=membership.organization if membership else None,
        membership=membership,
    )
