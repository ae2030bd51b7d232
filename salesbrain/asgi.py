"""ASGI entry point (gunicorn salesbrain.asgi:application -k uvicorn_worker.UvicornWorker).

Django's `get_asgi_application()`, with the handler that lends each request a pooled thread
(see salesbrain.asgi_handler).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbrain.settings")
django.setup(set_prefix=False)

from salesbrain.asgi_handler import PooledThreadASGIHandler  # noqa: E402 - after setup

application = PooledThreadASGIHandler()
