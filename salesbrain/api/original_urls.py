"""The original system's endpoints, at their exact paths (no trailing slash), under
/api/instantly/. Each reuses a /api/v1/ viewset action, so scoping, filters, pagination and the
error format are the same; the staff paths only swap in the staff permission. This is URL
wiring: it composes viewsets of every app, so it sits above all of them.
"""

from django.urls import path

from campaigns.api import CampaignViewSet, EmailAccountViewSet, OrganizationStatsViewSet
from instantly.api.views import SyncWorkspaceView
from instantly.views.health import health
from messaging.api import CampaignMessagesViewSet, MessageViewSet

from .permissions import IsAgencyStaff
from .viewsets import action_view

STAFF = {"permission_classes": [IsAgencyStaff]}

urlpatterns = [
    # Staff only (sb_admin, sb_operator): every organization and the shared workspace.
    path(
        "admin/campaigns",
        action_view(CampaignViewSet, "list", **STAFF),
        name="instantly-admin-campaigns",
    ),
    path(
        "admin/email-accounts",
        action_view(EmailAccountViewSet, "list", **STAFF),
        name="instantly-admin-email-accounts",
    ),
    path(
        "admin/campaign/<uuid:pk>/stats",
        action_view(CampaignViewSet, "stats", **STAFF),
        name="instantly-admin-campaign-stats",
    ),
    path(
        "admin/email-account/<int:pk>/stats",
        action_view(EmailAccountViewSet, "stats", **STAFF),
        name="instantly-admin-email-account-stats",
    ),
    path("sync/workspace", SyncWorkspaceView.as_view(), name="instantly-sync-workspace"),
    # Customers, scoped to their organization (staff see every organization).
    path("campaigns", action_view(CampaignViewSet, "list"), name="instantly-campaigns"),
    path(
        "email-accounts", action_view(EmailAccountViewSet, "list"), name="instantly-email-accounts"
    ),
    path(
        "campaign/<uuid:pk>/messages",
        action_view(CampaignMessagesViewSet, "list"),
        name="instantly-campaign-messages",
    ),
    path("stats", action_view(OrganizationStatsViewSet, "summary"), name="instantly-stats"),
    path(
        "search/messages",
        action_view(MessageViewSet, "search"),
        name="instantly-search-messages",
    ),
    # Public: load balancers and monitors.
    path("health", health, name="instantly-health"),
]
