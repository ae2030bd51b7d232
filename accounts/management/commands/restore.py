"""`manage.py restore FILE`: a backup back into an empty database, with the app role's rights.

FILE is a path, or the name of a backup in the configured storage (`latest` for the newest).
The target is the configured database unless `--database-name` names another on the same
server (`--create` creates it); it must be empty. After `pg_restore` (objects owned by the owner
role, no grants copied) the application role is created if missing and granted data access,
exactly as `migrate` does, so row-level security binds the restored data at once.
"""

import dataclasses
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from accounts.db import ensure_app_role, grant_app_role
from salesbrain import backups


class Command(BaseCommand):
    help = "Restore an encrypted backup into an empty database and re-grant the app role."

    def add_arguments(self, parser):
        parser.add_argument("file", help="backup path, a stored backup's name, or 'latest'")
        parser.add_argument("--database-name", help="restore into this database instead")
        parser.add_argument("--create", action="store_true", help="create that database first")
        parser.add_argument("--jobs", type=int, default=2, help="parallel pg_restore jobs")

    def handle(self, *args, file, database_name=None, create=False, jobs=2, **options):
        target = backups.Database.from_settings(name=database_name)
        if create:
            self._create(target)
        with tempfile.TemporaryDirectory(prefix="salesbrain-fetch-") as work:
            source = self._locate(file, Path(work))
            try:
                seconds = backups.restore_backup(source, target, jobs=jobs)
            except backups.BackupError as exc:
                raise CommandError(str(exc)) from exc
        with target.connect() as conn, conn.cursor() as cursor:
            ensure_app_role(cursor)
            grant_app_role(cursor)
        self.stdout.write(
            f"restored {file} into {target.name} in {seconds:.1f} s; application role granted"
        )

    def _locate(self, file: str, work: Path) -> Path:
        path = Path(file)
        if path.is_file():
            return path
        storage = backups.configured_storage()
        names = storage.names()
        name = names[-1] if file == "latest" and names else file
        if name not in names:
            raise CommandError(f"{file}: no such file, nor a backup in {storage}")
        local = work / name
        storage.get(name, local)
        return local

    def _create(self, target: backups.Database) -> None:
        server = dataclasses.replace(target, name="postgres")
        with server.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
