"""`flush`, run as the owner role: TRUNCATE is a privilege the application role never gets."""

from django.core.management.commands.flush import Command as FlushCommand

from accounts.db import as_owner


class Command(FlushCommand):
    def execute(self, *args, **options):
        with as_owner(options.get("database") or "default"):
            return super().execute(*args, **options)
