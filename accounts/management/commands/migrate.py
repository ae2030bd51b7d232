"""`migrate`, run as the owner role.

The application's own connection is the RLS-bound application role, which may not change the
schema. This override runs Django's migrate with the owner's credentials, creates the application
role first if it is missing, and grants it data access afterwards (see `accounts.signals`).
"""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from accounts.db import as_owner, ensure_app_role


class Command(MigrateCommand):
    help = MigrateCommand.help + " Runs as the database owner role (DATABASE_URL)."

    def execute(self, *args, **options):
        # execute(), not handle(): the system checks that run before handle() connect too.
        database = options.get("database") or "default"
        with as_owner(database):
            with connections[database].cursor() as cursor:
                ensure_app_role(cursor)
            return super().execute(*args, **options)
