"""List filters of the console's campaign and mailbox lists (the agency overview links to them
with these parameters: `assigned`, `used_by`, `health`)."""

from __future__ import annotations

import uuid

from django.contrib import admin

from accounts.models import Organization

from .models import CampaignSender, MailboxStatus


class AssignmentFilter(admin.SimpleListFilter):
    """Unassigned = a shared-workspace row no customer owns yet (organization NULL)."""

    title = "assignment"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("no", "Unassigned"), ("yes", "Assigned")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(organization__isnull=True)
        if self.value() == "yes":
            return queryset.filter(organization__isnull=False)
        return queryset


class UsedByFilter(admin.SimpleListFilter):
    """Mailboxes sending for an organization's campaigns ("shared": for unassigned ones); the
    agency overview's mailbox figures link here."""

    title = "used by"
    parameter_name = "used_by"

    def lookups(self, request, model_admin):
        return [("shared", "Unassigned campaigns")] + [
            (str(pk), name) for pk, name in Organization.objects.values_list("pk", "name")
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        senders = CampaignSender.objects.unscoped().filter(campaign__vanished_at__isnull=True)
        if self.value() == "shared":
            senders = senders.filter(organization__isnull=True)
        else:
            try:
                senders = senders.filter(organization_id=uuid.UUID(self.value()))
            except ValueError:
                return queryset.none()
        return queryset.filter(pk__in=senders.values("email_account_id"))


class HealthFilter(admin.SimpleListFilter):
    """Healthy = status active; anything else (paused, errors) needs a look."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("healthy", "Healthy"), ("unhealthy", "Unhealthy")]

    def queryset(self, request, queryset):
        if self.value() == "healthy":
            return queryset.filter(status=MailboxStatus.ACTIVE)
        if self.value() == "unhealthy":
            return queryset.exclude(status=MailboxStatus.ACTIVE)
        return queryset
