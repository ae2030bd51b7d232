"""Every URL of Salesbrain. Follow a name from here down to the view that serves it."""

from django.contrib import admin
from django.urls import include, path

from instantly.views.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/instantly/health", health, name="instantly-health"),
]
