"""The Celery worker's own metrics endpoint, for multiprocess mode.

Celery's prefork pool processes count into `PROMETHEUS_MULTIPROC_DIR`; the worker's main
process serves their sum over HTTP on `METRICS_WORKER_PORT`, under the same rules as the web's
`/metrics` (bearer `METRICS_TOKEN`, else loopback only). Values computed from the database are
left to the web's endpoint, so Prometheus sees each once.
"""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST

from salesbrain import metrics

logger = logging.getLogger(__name__)


def worker_starting() -> None:
    """Before the pool forks: counts of a previous run must not be added up again."""
    metrics.prepare_multiprocess_dir()


def app(environ, start_response):
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    refusal = metrics.scrape_refusal(
        token=settings.METRICS_TOKEN,
        authorization=environ.get("HTTP_AUTHORIZATION", ""),
        remote_addr=environ.get("REMOTE_ADDR", ""),
    )
    if refusal is not None:
        status, reason = refusal
        phrase = "401 Unauthorized" if status == 401 else "403 Forbidden"
        start_response(phrase, [("Content-Type", "text/plain")])
        return [reason.encode() + b"\n"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [metrics.exposition(scrape_time=False)]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # scrapes every 15 s are not news
        pass


def serve() -> threading.Thread | None:
    """Serve the pool's metrics from a daemon thread (multiprocess mode and a port set)."""
    port = settings.METRICS_WORKER_PORT
    if not (metrics.multiprocess_dir() and port):
        return None
    server = make_server(settings.METRICS_WORKER_HOST, port, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True)
    thread.start()
    logger.info("worker metrics on %s:%s/metrics", settings.METRICS_WORKER_HOST, port)
    return thread
