"""Operations endpoints: `/metrics` for Prometheus, `/healthz` and `/readyz` for probes.

Plain Django views, outside the API (no authentication classes, no throttles, no tenant): a
probe or a scraper has no user. `/metrics` wants `Authorization: Bearer <METRICS_TOKEN>` when
that setting is set; without one it answers loopback callers only.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from salesbrain import health, metrics


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer for a caller who may not scrape, or None."""
    refusal = metrics.scrape_refusal(
        token=settings.METRICS_TOKEN,
        authorization=request.headers.get("Authorization", ""),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )
    if refusal is None:
        return None
    status, reason = refusal
    headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if status == 401 else None
    return JsonResponse({"error": reason}, status=status, headers=headers)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. Asks no dependency."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, the broker and every registered check answer ok."""
    checks = health.readiness()
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unready", "checks": checks}, status=200 if ready else 503
    )
