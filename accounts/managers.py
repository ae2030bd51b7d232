"""Fail-closed managers for tenant tables (the Python half of tenant isolation).

`Model.objects` filters by the current tenant and raises `TenantNotSet` when there is none, so a
forgotten scope is an error in development instead of a data leak. Staff code and the admin use
`Model.objects.unscoped()`: still bound by PostgreSQL row-level security, which shows staff every
row only inside `staff_scope()`.
"""

from __future__ import annotations

from django.db import models

from .tenancy import TenantNotSet, current_tenant


class TenantManager(models.Manager):
    """The default manager of every tenant model."""

    def get_queryset(self):
        ctx = current_tenant()
        if ctx is None:
            raise TenantNotSet(
                f"{self.model.__name__}.objects used outside tenant_scope(); "
                "use .unscoped() in staff code"
            )
        qs = super().get_queryset()
        if ctx.bypass:
            return qs
        if ctx.organization_id is None:
            return qs.none()
        return self.scope_to_organization(qs, ctx.organization_id)

    def scope_to_organization(self, qs, organization_id):
        """Rows one organization may see; a model with shared rows overrides this."""
        return qs.filter(organization_id=organization_id)

    def unscoped(self):
        """Every row the database lets this transaction see (RLS still applies)."""
        return super().get_queryset()


class TenantModel(models.Model):
    """Base of every tenant table: an `organization` column (NULL = the agency's shared
    workspace, staff only) and the fail-closed manager. The row-level security policies are
    created by migrations through `accounts.rls`."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=True,
    )

    objects = TenantManager()

    class Meta:
        abstract = True
