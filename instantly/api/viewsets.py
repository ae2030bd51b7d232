"""Staff viewsets of the Instantly boundary: provider connections and webhook events.

Connections: staff read, sb_admin writes (keys write-only). Deleting a connection that still has
campaigns, mailboxes or events is a 409: they are kept, never cascaded away.
Webhook events: staff read them and reprocess failed or ignored ones
(`instantly.webhooks.reprocess.reprocess_events`).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from instantly.models import ProviderConnection, WebhookEvent
from instantly.webhooks.reprocess import REPROCESSABLE, reprocess_events
from salesbrain.api.errors import Conflict
from salesbrain.api.permissions import IsAgencyStaff, IsAgencyStaffAdminWrites
from salesbrain.api.throttling import SyncThrottle
from salesbrain.api.viewsets import INT_LOOKUP, UUID_LOOKUP, ReadOnlyScopedViewSet

from . import filters, serializers
from .sync import queue_workspace_sync

CONFLICT = OpenApiResponse(description="Conflict (see `error.code`).")


@extend_schema_view(
    destroy=extend_schema(responses={204: None, 409: CONFLICT}),
    sync=extend_schema(
        request=None, responses={202: serializers.SyncQueuedSerializer, 409: CONFLICT}
    ),
)
class ProviderConnectionViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ReadOnlyScopedViewSet,
):
    """Instantly workspaces Salesbrain mirrors. API keys are write-only."""

    model = ProviderConnection
    lookup_value_regex = UUID_LOOKUP
    serializer_class = serializers.ProviderConnectionSerializer
    permission_classes = [IsAgencyStaffAdminWrites]
    filterset_class = filters.ProviderConnectionFilter
    ordering_fields = ["name", "created_at", "last_synced_at", "status"]
    ordering = ["name", "id"]

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAgencyStaff],
        throttle_classes=[*api_settings.DEFAULT_THROTTLE_CLASSES, SyncThrottle],
    )
    def sync(self, request, pk=None):
        """Queue a sync of this workspace (after the request commits)."""
        connection = self.get_object()
        queue_workspace_sync(connection, full=False)
        return Response(
            {"status": "queued", "connection": connection.pk, "full": False},
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema_view(
    reprocess=extend_schema(
        request=None, responses={202: serializers.ReprocessResultSerializer, 409: CONFLICT}
    ),
    reprocess_many=extend_schema(
        operation_id="webhook_events_reprocess_many",
        request=serializers.ReprocessManySerializer,
        responses={202: serializers.ReprocessResultSerializer},
    ),
)
class WebhookEventViewSet(ReadOnlyScopedViewSet):
    """Every webhook delivery as received, and what became of it (staff)."""

    model = WebhookEvent
    serializer_class = serializers.WebhookEventSerializer
    permission_classes = [IsAgencyStaff]
    filterset_class = filters.WebhookEventFilter
    ordering_fields = ["received_at", "occurred_at", "processed_at", "attempts"]
    ordering = ["-received_at", "-id"]
    lookup_value_regex = INT_LOOKUP

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.WebhookEventDetailSerializer
        return super().get_serializer_class()

    def get_scoped_queryset(self, queryset):
        return queryset.defer("payload") if self.action == "list" else queryset

    @action(detail=True, methods=["post"])
    def reprocess(self, request, pk=None):
        """Put one failed or ignored event back in the queue."""
        event = self.get_object()
        if event.status not in REPROCESSABLE:
            raise Conflict(
                f"Only failed or ignored events are reprocessed; this one is {event.status}.",
                code="not_reprocessable",
            )
        requeued = reprocess_events([event.pk])
        return Response({"requeued": requeued}, status=status.HTTP_202_ACCEPTED)

    @action(detail=False, methods=["post"], url_path="reprocess")
    def reprocess_many(self, request):
        """Put the failed or ignored events among `ids` back in the queue (others are skipped)."""
        params = serializers.ReprocessManySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        visible = self.get_queryset().filter(pk__in=params.validated_data["ids"])
        requeued = reprocess_events(visible)
        return Response({"requeued": requeued}, status=status.HTTP_202_ACCEPTED)
