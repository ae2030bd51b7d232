"""`manage.py backup`: an encrypted pg_dump of the database, stored and pruned.

Where it goes: BACKUP_DIR, or BACKUP_S3_BUCKET when set; how many stay: BACKUP_KEEP. Celery beat
runs the same every day (`salesbrain.tasks.backup_database`). See `salesbrain.backups`.
"""

from django.core.management.base import BaseCommand, CommandError

from salesbrain import backups


class Command(BaseCommand):
    help = "Dump the database (pg_dump custom format), encrypt it, store it, keep the newest N."

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, help="backups to keep (default BACKUP_KEEP)")

    def handle(self, *args, keep=None, **options):
        try:
            result = backups.run_backup(keep=keep)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.name}: {result.size} bytes dumped in {result.seconds:.1f} s, "
            f"stored in {result.location}"
        )
        for name in result.removed:
            self.stdout.write(f"removed {name}")
