"""`webhook_event` keeps 9 indexes instead of 12: every delivery writes each of them.

Dropped: the `LIKE` (varchar_pattern_ops) twins of `event_type` and `status`, which no query
uses; `status` alone, which `webhookevent_sweep_idx (status, received_at)` already serves; and
`connection_id` alone, replaced by `webhookevent_arrival_idx (connection_id, received_at)`,
which also serves "a connection's last delivery" (status page, connection admin, test
delivery) without sorting the connection's rows. The plain `event_type` index is kept,
renamed. Built and dropped concurrently: a large table keeps taking deliveries meanwhile.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "instantly_webhookevent"
# Django's names for the `db_index=True` indexes (deterministic: table and column names).
REDUNDANT = [
    "instantly_webhookevent_event_type_ebec1e95_like",
    "instantly_webhookevent_status_96767a7e",
    "instantly_webhookevent_status_96767a7e_like",
    "instantly_webhookevent_connection_id_0dd91228",
]
OLD_TYPE_INDEX = "instantly_webhookevent_event_type_ebec1e95"

FORWARD = [
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhookevent_arrival_idx" '
    f'ON "{TABLE}" ("connection_id", "received_at")',
    f'ALTER INDEX IF EXISTS "{OLD_TYPE_INDEX}" RENAME TO "webhookevent_type_idx"',
    *(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"' for name in REDUNDANT),
]
BACKWARD = [
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{REDUNDANT[0]}" '
    f'ON "{TABLE}" ("event_type" varchar_pattern_ops)',
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{REDUNDANT[1]}" ON "{TABLE}" ("status")',
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{REDUNDANT[2]}" '
    f'ON "{TABLE}" ("status" varchar_pattern_ops)',
    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{REDUNDANT[3]}" ON "{TABLE}" ("connection_id")',
    f'ALTER INDEX IF EXISTS "webhookevent_type_idx" RENAME TO "{OLD_TYPE_INDEX}"',
    'DROP INDEX CONCURRENTLY IF EXISTS "webhookevent_arrival_idx"',
]

STATE = [
    migrations.AlterField(
        model_name="webhookevent",
        name="connection",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="webhook_events",
            to="instantly.providerconnection",
        ),
    ),
    migrations.AlterField(
        model_name="webhookevent", name="event_type", field=models.CharField(max_length=64)
    ),
    migrations.AlterField(
        model_name="webhookevent",
        name="status",
        field=models.CharField(
            choices=[
                ("pending", "Pending"),
                ("processing", "Processing"),
                ("processed", "Processed"),
                ("ignored", "Ignored"),
                ("failed", "Failed"),
            ],
            default="pending",
            max_length=16,
        ),
    ),
    migrations.AddIndex(
        model_name="webhookevent",
        index=models.Index(fields=["event_type"], name="webhookevent_type_idx"),
    ),
    migrations.AddIndex(
        model_name="webhookevent",
        index=models.Index(fields=["connection", "received_at"], name="webhookevent_arrival_idx"),
    ),
]


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY

    dependencies = [("instantly", "0011_webhook_front_door")]

    operations = [
        migrations.SeparateDatabaseAndState(
            # One statement at a time, outside a transaction (CONCURRENTLY requires it).
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=STATE,
        )
    ]
