"""Puts every authenticated request inside a tenant scope (one transaction per request).

Django middleware runs outside ATOMIC_REQUESTS, and the PostgreSQL tenant setting is
transaction-local, so this middleware opens the request's transaction itself through
`tenant_scope`: staff get the bypass, a member acts for their selected organization, anyone else
gets an empty scope that sees nothing. The user and organization ids go into the log context
of the request (`salesbrain.logs`). Anonymous requests run unscoped; views that serve them
(login, health, the webhook receiver) open whatever scope they need themselves.
"""

from __future__ import annotations

from salesbrain import logs

from .tenancy import tenant_scope
from .tenant_resolution import resolve_request_tenant


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        resolved = resolve_request_tenant(request)
        request.organization = resolved.organization
        request.membership = resolved.membership
        request.is_agency_staff = resolved.is_staff
        logs.bind(
            user_id=getattr(resolved.user, "pk", None),
            organization_id=str(resolved.organization.pk) if resolved.organization else None,
        )
        if resolved.user is None:
            request.tenant = None
            return self.get_response(request)
        with tenant_scope(
            resolved.organization.pk if resolved.organization else None, bypass=resolved.is_staff
        ) as ctx:
            request.tenant = ctx
            return self.get_response(request)
