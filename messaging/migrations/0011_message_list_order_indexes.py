"""Message lists are ordered (-sent_at, -id); their indexes now hold the id too.

`message_org_sent_idx` (organization, -sent_at) becomes (organization, -sent_at, -id), and the
plain `sent_at` index becomes `message_sent_idx` (-sent_at, -id). Before, a page was the
index's first rows only when no two messages shared a second; otherwise PostgreSQL read every
message of the tied seconds and sorted them by id (12,500 rows for the first staff page of
bench/api_latency.py --large). Built concurrently, then the old ones dropped, so a large
table keeps taking messages meanwhile.
"""

from django.db import migrations, models

TABLE = "messaging_message"
OLD_SENT_AT_INDEX = "messaging_message_sent_at_b40e71b2"  # Django's name for db_index=True

FORWARD = [
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "message_sent_idx" '
    f'ON "{TABLE}" ("sent_at" DESC, "id" DESC)',
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "message_org_sent_id_idx" '
    f'ON "{TABLE}" ("organization_id", "sent_at" DESC, "id" DESC)',
    f'DROP INDEX CONCURRENTLY IF EXISTS "{OLD_SENT_AT_INDEX}"',
    'DROP INDEX CONCURRENTLY IF EXISTS "message_org_sent_idx"',
    'ALTER INDEX "message_org_sent_id_idx" RENAME TO "message_org_sent_idx"',
]
BACKWARD = [
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{OLD_SENT_AT_INDEX}" ON "{TABLE}" ("sent_at")',
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "message_org_sent_old_idx" '
    f'ON "{TABLE}" ("organization_id", "sent_at" DESC)',
    'DROP INDEX CONCURRENTLY IF EXISTS "message_sent_idx"',
    'DROP INDEX CONCURRENTLY IF EXISTS "message_org_sent_idx"',
    'ALTER INDEX "message_org_sent_old_idx" RENAME TO "message_org_sent_idx"',
]


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY

    dependencies = [("messaging", "0010_message_campaign_count_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            # One statement at a time, outside a transaction (CONCURRENTLY requires it).
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.RemoveIndex(model_name="message", name="message_org_sent_idx"),
                migrations.AlterField(
                    model_name="message", name="sent_at", field=models.DateTimeField()
                ),
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(
                        fields=["organization", "-sent_at", "-id"], name="message_org_sent_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(fields=["-sent_at", "-id"], name="message_sent_idx"),
                ),
            ],
        )
    ]
