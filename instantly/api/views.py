"""The original system's endpoints that are not a /api/v1/ viewset action: the manual sync.

(The others are served by the /api/v1/ viewsets, see `salesbrain.api.original_urls`; the
health check is `instantly.views.health`.)
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from instantly.models import ProviderConnection
from salesbrain.api.permissions import IsAgencyStaff
from salesbrain.api.throttling import SyncThrottle

from .serializers import SyncQueuedSerializer, SyncWorkspaceSerializer
from .sync import queue_workspace_sync, shared_connection


class SyncWorkspaceView(APIView):
    """`POST /api/instantly/sync/workspace`: queue a sync of a workspace (staff)."""

    permission_classes = [IsAgencyStaff]
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, SyncThrottle]

    @extend_schema(
        request=SyncWorkspaceSerializer,
        responses={
            202: SyncQueuedSerializer,
            409: OpenApiResponse(description="No shared workspace, or the connection is disabled."),
        },
        tags=["instantly"],
        operation_id="instantly_sync_workspace",
    )
    def post(self, request):
        params = SyncWorkspaceSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        connection_id = params.validated_data.get("connection")
        if connection_id is not None:
            connection = get_object_or_404(ProviderConnection.objects.all(), pk=connection_id)
        else:
            connection = shared_connection()
        full = params.validated_data["full"]
        queue_workspace_sync(connection, full=full)
        return Response(
            {"status": "queued", "connection": connection.pk, "full": full},
            status=status.HTTP_202_ACCEPTED,
        )
