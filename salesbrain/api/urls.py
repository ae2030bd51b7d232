"""Everything under /api/: the v1 router, the original /api/instantly/ paths, the OpenAPI schema
and its docs, and a JSON 404 for any other /api/ path (it must stay last)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts.api import ApiTokenViewSet, MembershipViewSet, MeView, OrganizationViewSet
from campaigns.api import (
    CampaignViewSet,
    ContactViewSet,
    EmailAccountViewSet,
    LeadViewSet,
    OrganizationStatsViewSet,
)
from instantly.api.viewsets import ProviderConnectionViewSet, WebhookEventViewSet
from messaging.api import CampaignMessagesViewSet, MessageViewSet, ThreadViewSet
from messaging.notification_api import NotificationViewSet

from . import schema  # registers the token scheme with drf-spectacular
from .errors import api_not_found
from .viewsets import action_view

app_name = "api"


class Router(DefaultRouter):
    """DRF's router without `.json` suffix routes (the Accept header chooses the format)."""

    include_format_suffixes = False


router = Router()
# Customers (scoped to their organization) and staff (everything).
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("email-accounts", EmailAccountViewSet, basename="email-account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("leads", LeadViewSet, basename="lead")
router.register("threads", ThreadViewSet, basename="thread")
router.register("messages", MessageViewSet, basename="message")
router.register("notifications", NotificationViewSet, basename="notification")
# Every user, for themselves.
router.register("tokens", ApiTokenViewSet, basename="api-token")
# Agency staff.
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("connections", ProviderConnectionViewSet, basename="provider-connection")
router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")

urlpatterns = [
    path("v1/me/", MeView.as_view(), name="me"),
    path("v1/stats/", action_view(OrganizationStatsViewSet, "summary"), name="stats"),
    path(
        "v1/campaigns/<uuid:pk>/messages/",
        CampaignMessagesViewSet.as_view({"get": "list"}),
        name="campaign-messages",
    ),
    path("v1/", include(router.urls)),
    path("instantly/", include("salesbrain.api.original_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start script as a file: no inline script (CSP).
    path("docs/", schema.ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^", api_not_found, name="not-found"),
]
