"""Every URL of Salesbrain. Follow a name from here down to the view that serves it."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from instantly.console.views import agency_overview_page
from instantly.views.status import operator_status
from salesbrain import views as operations

urlpatterns = [
    # Operations: Prometheus, liveness and readiness probes (no trailing slash, no redirect).
    path("metrics", operations.metrics_view, name="metrics"),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    # Notifications moved from `accounts` to `messaging`; old console links keep working.
    path(
        "admin/accounts/notification/",
        RedirectView.as_view(url="/admin/messaging/notification/", query_string=True),
    ),
    # The operator status page, inside the console.
    path("admin/status/", admin.site.admin_view(operator_status), name="operator-status"),
    # The console opens on the agency overview (staff only), ahead of the stock model index.
    path("admin/", agency_overview_page, name="agency_overview"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # The API: /api/v1/, the original /api/instantly/ paths, /api/schema/, /api/docs/.
    path("api/", include("salesbrain.api.urls")),
    path("webhooks/instantly/", include("instantly.webhooks.urls")),
    path("", include("campaigns.urls")),
    path("", include("messaging.urls")),
    path("", include("messaging.notification_urls")),
    path("", include("messaging.feed_urls")),
]

# Django's own error answers: JSON under /api/ (one format), the usual pages elsewhere.
handler400 = "salesbrain.api.errors.bad_request"
handler403 = "salesbrain.api.errors.permission_denied"
handler404 = "salesbrain.api.errors.page_not_found"
handler500 = "salesbrain.api.errors.server_error"
