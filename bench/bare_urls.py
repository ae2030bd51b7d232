"""Benchmark-only URLconf: the app's URLs plus a bare view that only parses JSON.

Served by `bench/webhook_ingest.py` (settings `bench.ingest_settings`) so the receiver can be
compared with the least a Django view answering a webhook could do, in the same server.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from salesbrain.urls import urlpatterns as app_urlpatterns


@csrf_exempt
def bare_json(request):
    json.loads(request.body)
    return JsonResponse({"ok": True})


@csrf_exempt
def bare_insert(request):
    """The floor the issue measures the receiver against: parse, then one `INSERT … ON
    CONFLICT` committed on its own (autocommit), into a two-column table with no other index."""
    body = request.body
    json.loads(body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (dedupe_key, payload) VALUES (%s, %s::jsonb) "
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            [hashlib.sha256(body).hexdigest(), body.decode()],
        )
        row = cursor.fetchone()
    return JsonResponse({"ok": True, "id": row[0] if row else None})


urlpatterns = [
    *app_urlpatterns,
    path("bench/bare", bare_json),
    # The same under a machine path: past the browser middleware, as the receiver is.
    path("webhooks/bench/bare", bare_json),
    path("bench/bare-insert", bare_insert),
]
