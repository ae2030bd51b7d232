"""The Celery app. Tasks run in-process (eager) when no broker is configured.

Every task runs inside a log context naming it (`task`, `task_id`), so its lines say which run
wrote them; tasks bind the ids of what they work on (event, sync) themselves. With
`PROMETHEUS_MULTIPROC_DIR` set, the worker's pool processes count into that directory and the
main process serves their sum on `METRICS_WORKER_PORT` (see `salesbrain.worker_metrics`).
"""

from __future__ import annotations

import os

from celery import Celery, Task, signals

from salesbrain import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbrain.settings")


class LoggedTask(Task):
    """A task whose log lines carry its name and id."""

    def __call__(self, *args, **kwargs):
        with logs.log_context(task=self.name, task_id=self.request.id):
            return super().__call__(*args, **kwargs)


app = Celery("salesbrain", task_cls=LoggedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Webhook tasks live in their own package; autodiscover finds `<package>.tasks`.
app.autodiscover_tasks(["instantly.webhooks"])


# The metrics modules are imported inside these handlers, when a worker starts or stops:
# `salesbrain/__init__` imports this module before Django's settings are ready, and they read
# settings at import.
@signals.celeryd_init.connect
def _worker_starting(**kwargs):
    from salesbrain import worker_metrics

    worker_metrics.worker_starting()


@signals.worker_ready.connect
def _worker_ready(**kwargs):
    from salesbrain import worker_metrics

    worker_metrics.serve()


@signals.worker_process_shutdown.connect
def _pool_process_exiting(pid=None, **kwargs):
    from salesbrain import metrics

    metrics.process_exited(pid or os.getpid())
