"""gunicorn's settings (read from the working directory): metrics across worker processes.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its counts to files there and `/metrics`
adds them up; the directory is emptied when the server starts and a worker that exits is
marked dead. Logging is Django's (JSON lines in production): gunicorn's own access log is off,
the request middleware writes one line per request with its ids.

Each worker process keeps a pool of database connections (DB_POOL_MAX_SIZE, see settings):
under ASGI a request may run on any thread, and without a pool connections either piled up
per thread or were opened per request (the webhook receiver keeps one more of its own per
worker, outside the pool). workers x (pool size + 1) must stay well under PostgreSQL's
max_connections (100 by default), beside the Celery worker, beat and the feed listeners
(one per worker). Set before the workers load Django, so they all read it.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
os.environ.setdefault("DB_POOL_MAX_SIZE", "10")
accesslog = None


def on_starting(server):
    from salesbrain.metrics import prepare_multiprocess_dir

    prepare_multiprocess_dir()


def child_exit(server, worker):
    from salesbrain.metrics import process_exited

    process_exited(worker.pid)
