"""Who may call what. Row visibility is not decided here but by the tenant scope (see
`salesbrain.api.viewsets`); these classes decide whether the caller may use an endpoint at all,
and whether their role lets them write.

Each class checks the user DRF authenticated *and* what the tenant middleware resolved for the
same request (`request.membership`, `request.is_agency_staff`): both must agree before anything
is allowed, so a mismatch between the two can only ever deny.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import is_agency_admin, is_agency_staff


def _authenticated(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


def caller_is_staff(request) -> bool:
    """sb_admin/sb_operator, and the request runs with the staff bypass the middleware opened."""
    return (
        _authenticated(request)
        and bool(getattr(request, "is_agency_staff", False))
        and is_agency_staff(request.user)
    )


def caller_membership(request):
    """The membership the request acts under (None: no organization), if it is the caller's."""
    membership = getattr(request, "membership", None)
    if membership is None or not _authenticated(request):
        return None
    return membership if membership.user_id == request.user.pk else None


class IsAgencyStaff(BasePermission):
    """Agency staff only (sb_admin, sb_operator): operator endpoints."""

    message = "Only agency staff may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return caller_is_staff(request)


class IsAgencyStaffAdminWrites(BasePermission):
    """Staff read; only sb_admin changes users, roles, organizations and connection keys."""

    message = "Only agency staff may read this, and only sb_admin may change it."

    def has_permission(self, request, view) -> bool:
        if not caller_is_staff(request):
            return False
        return request.method in SAFE_METHODS or is_agency_admin(request.user)


class IsOrganizationMember(BasePermission):
    """A member of an organization (any role), or staff: customer endpoints, read-only use."""

    message = "You do not belong to any organization."

    def has_permission(self, request, view) -> bool:
        return caller_is_staff(request) or caller_membership(request) is not None


class MembersWriteViewersRead(IsOrganizationMember):
    """Viewers read; owners, admins and members also write; staff do both.

    On a detail route the role is checked against the object, after the lookup: a row of
    another organization is a 404 for everyone, never a 403 that would confirm it exists.
    """

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or caller_is_staff(request):
            return True
        if getattr(view, "detail", False):
            return True  # decided in has_object_permission, once the row is known to be visible
        return caller_membership(request).can_write

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or caller_is_staff(request):
            return True
        membership = caller_membership(request)
        if membership is None or not membership.can_write:
            self.message = "Your role in this organization is read-only."
            return False
        return True
