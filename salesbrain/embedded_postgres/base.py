"""Django's PostgreSQL backend, with the embedded server started when a connection opens."""

from __future__ import annotations

from django.db.backends.postgresql import base

from salesbrain.embedded_db import start_embedded_server


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        start_embedded_server(self.settings_dict)
        return super().get_connection_params()
