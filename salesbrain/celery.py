"""The Celery app. Tasks run in-process (eager) when no broker is configured."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbrain.settings")

app = Celery("salesbrain")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Webhook tasks live in their own package; autodiscover finds `<package>.tasks`.
app.autodiscover_tasks(["instantly.webhooks"])
