"""`GET /api/instantly/health`: is the database reachable, is the broker reachable.

Public and unthrottled, with no authentication at all (a stale token must not turn a probe
into a 401): load balancers and uptime monitors call it (as they may call `/healthz` and
`/readyz`, see `salesbrain.health`). It reports which dependency failed,
never a credential or an address. 200 when all answer; 503, in the API's error format with the
checks in `details`, when one does not.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from salesbrain.api.errors import error_body
from salesbrain.health import check_broker as _check_broker
from salesbrain.health import check_database as _check_database


def run_checks() -> dict:
    return {"database": _check_database(), "broker": _check_broker()}


class CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(required=False)
    mode = serializers.ChoiceField(choices=["eager", "broker"], required=False)
    detail = serializers.CharField(required=False)
    error = serializers.CharField(required=False, help_text="The failure's exception class.")


class ChecksSerializer(serializers.Serializer):
    database = CheckSerializer()
    broker = CheckSerializer()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])
    checks = ChecksSerializer()


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        responses={
            200: HealthSerializer,
            503: OpenApiResponse(
                description="A dependency is unreachable: the error format, with "
                '`details` = `{"status": "degraded", "checks": {...}}`.'
            ),
        },
        tags=["instantly"],
        operation_id="instantly_health",
    )
    def get(self, request):
        """200 when the database and the broker answer, 503 otherwise."""
        checks = run_checks()
        if all(check["ok"] for check in checks.values()):
            return Response({"status": "ok", "checks": checks})
        body = error_body(
            "service_unavailable",
            "A dependency is unreachable.",
            {"status": "degraded", "checks": checks},
        )
        return Response(body, status=503)


health = HealthView.as_view()
