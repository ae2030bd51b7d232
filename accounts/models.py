"""The tenant (Organization) and who belongs to it (Membership).

Organization and Membership are the tenancy plumbing itself: they are looked up before a tenant
is known (to decide it), so they carry no row-level security; every read of them in views and
the API is filtered by the user's memberships instead.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .roles import WRITER_ROLES, MemberRole


class Organization(models.Model):
    """A customer of the agency. Every tenant row points at one (or at none: shared)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organization. A user may belong to several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="uniq_membership")
        ]
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES


# Per-user API tokens live in their own module; importing it here registers the model with the
# app however the code is entered.
from .api_tokens import ApiToken  # noqa: E402, F401
