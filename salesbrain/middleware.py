"""Each request gets an id, a log context, its metrics and one access line.

First in MIDDLEWARE, so everything below (the SSL redirect, the tenant scope, the view) logs
with the request's `request_id`: taken from the caller's `X-Request-ID` when it is a sane token
(a proxy's or a client's, to join their logs with ours), generated otherwise, and sent back in
the response. The URL name (`view`) is bound once the URL is resolved; the tenant middleware
binds the user and organization. The access line carries all of them, the status, the duration
and the number of database queries; metrics count requests and their latency by URL name.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from salesbrain import logs, metrics
from salesbrain.dbmetrics import counting_queries

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is accepted only if it cannot forge a log line or blow up a label.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"

access_logger = logging.getLogger("salesbrain.request")


def incoming_request_id(request) -> str | None:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if _SANE_ID.match(value) else None


def view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match.route or UNMATCHED


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request) or uuid.uuid4().hex
        request.request_id = request_id
        started = time.perf_counter()
        with logs.log_context(request_id=request_id), counting_queries() as queries:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            view = view_name(request)
            method = request.method if request.method in _METHODS else "other"
            metrics.HTTP_REQUESTS.labels(view, method, str(response.status_code)).inc()
            metrics.HTTP_SECONDS.labels(view).observe(elapsed)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "view": view,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "db_queries": queries[0],
                },
            )
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        logs.bind(view=view_name(request))
