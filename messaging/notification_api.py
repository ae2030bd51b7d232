"""API for notifications: the list (newest first, `?kind=`, `?unread=true`) and read state.

Read state is each caller's own, so any member may mark notifications read, viewers included;
staff see and mark every organization's.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from salesbrain.api.permissions import IsOrganizationMember
from salesbrain.api.viewsets import INT_LOOKUP, ScopedViewSet

from . import notifications
from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id", "organization", "kind", "title", "body", "campaign", "lead", "created_at",
            "is_read", "url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return notifications.link(obj)


MarkedSerializer = inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()})


@extend_schema(
    parameters=[
        OpenApiParameter(
            "kind", str, description="One kind: " + ", ".join(Notification.Kind.values)
        ),
        OpenApiParameter("unread", bool, description="Only those this caller has not read."),
    ]
)
class NotificationViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = Notification
    serializer_class = NotificationSerializer
    permission_classes = [IsOrganizationMember]
    lookup_value_regex = INT_LOOKUP
    filter_backends = []

    def get_scoped_queryset(self, queryset):
        queryset = notifications.with_read_state(queryset, self.request.user)
        params = self.request.query_params
        kind = params.get("kind")
        if kind:
            if kind not in Notification.Kind.values:
                # A clear 400, as django-filter's choice filters answer (and never a NUL byte
                # handed to PostgreSQL, which refuses it with a server error).
                raise ValidationError(
                    {"kind": [f"Unknown kind; one of: {', '.join(Notification.Kind.values)}."]}
                )
            queryset = queryset.filter(kind=kind)
        if params.get("unread", "").lower() in ("1", "true", "yes"):
            queryset = queryset.filter(is_read=False)
        return queryset

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notifications.mark_read(notification, request.user)
        notification.is_read = True
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = notifications.mark_all_read(self.get_queryset(), request.user)
        return Response({"marked": marked})
