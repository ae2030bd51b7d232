"""The original system's endpoints, at their exact paths (no trailing slash), under
/api/instantly/. Each reuses a /api/v1/ viewset action, so scoping, filters, pagination and the
error format are the same; the staff paths only swap in the staff permission.
"""

from django.urls import path

from campaigns.api import CampaignViewSet, EmailAccountViewSet, OrganizationStatsViewSet
from messaging.api import MessageViewSet
from salesbrain.api.permissions import IsAgencyStaff
from salesbrain.api.viewsets import action_view

from ..views.health import health
from .views import SyncWorkspaceView

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
        action_view(CampaignViewSet, "messages"),
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
