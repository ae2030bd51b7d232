"""`/admin/status/`: the operator status page (staff with the right to view webhook events).

Processing lag, pending and failed events by type, each connection's sync, subscription and
last delivery, and the recent failures and open alerts, each linked to its rows in the console.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from instantly import status


def operator_status(request):
    if not request.user.has_perm("instantly.view_webhookevent"):
        raise PermissionDenied
    processing = status.processing_state()
    context = {
        **admin.site.each_context(request),
        "title": "Status",
        "processing": processing,
        "lagging": processing.lag_seconds >= settings.READINESS_MAX_LAG_SECONDS,
        "lag_limit": settings.READINESS_MAX_LAG_SECONDS,
        "connections": status.connection_states(),
        "failures": status.recent_failures(),
        "failed_syncs": status.failed_syncs(),
        "alerts": status.open_alerts(),
    }
    return TemplateResponse(request, "admin/operator_status.html", context)
