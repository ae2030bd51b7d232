from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SalesbrainConfig(AppConfig):
    """The project base as an app: hooks that must be installed in every process."""

    name = "salesbrain"
    verbose_name = "Salesbrain"

    def ready(self):
        # Imported once the app registry is ready (it touches the database backend).
        from . import dbmetrics

        connection_created.connect(dbmetrics.install, dispatch_uid="sb_count_queries")
