"""Benchmark-only URLconf: the app's URLs plus a bare view that only parses JSON.

Served by `bench/webhook_ingest.py` (settings `bench.ingest_settings`) so the receiver can be
compared with the least a Django view answering a webhook could do, in the same server.
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from salesbrain.urls import urlpatterns as app_urlpatterns


@csrf_exempt
def bare_json(request):
    json.loads(request.body)
    return JsonResponse({"ok": True})


urlpatterns = [*app_urlpatterns, path("bench/bare", bare_json)]
