"""Roles: staff roles of the agency (Django groups) and member roles inside an organization."""

from __future__ import annotations

from django.db import models

SB_ADMIN = "sb_admin"
SB_OPERATOR = "sb_operator"
STAFF_GROUPS = (SB_ADMIN, SB_OPERATOR)


class MemberRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Roles that may change data; viewers only read.
WRITER_ROLES = frozenset({MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER})


def is_agency_staff(user) -> bool:
    """sb_admin, sb_operator or a superuser: sees every organization and the shared workspace.

    Cached on the user object: the middleware asks on every request.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    cached = getattr(user, "_sb_is_staff", None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name__in=STAFF_GROUPS).exists()
        user._sb_is_staff = cached
    return cached


def is_agency_admin(user) -> bool:
    """sb_admin or superuser: may manage users, roles and connection keys."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    cached = getattr(user, "_sb_is_admin", None)  # set by accounts.tenant_resolution
    if cached is not None:
        return cached
    return user.is_superuser or user.groups.filter(name=SB_ADMIN).exists()
