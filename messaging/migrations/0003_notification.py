"""Notification moves here from `accounts` (which sits below the campaigns it points at).

A database made before the move has the table as `accounts_notification`, with its row-level
security: it is renamed and kept, rows and policies included. A new database gets the table
created here and put under row-level security.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from accounts.rls import rls_sql
from salesbrain.migration_sql import drop_foreign_keys_sql

OLD_TABLE = "accounts_notification"
TABLE = "messaging_notification"


class AdoptOrCreateModel(migrations.CreateModel):
    """CreateModel that adopts (renames) `OLD_TABLE` when it exists instead of creating one."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [OLD_TABLE])
            (adopt,) = cursor.fetchone()
        if adopt:
            schema_editor.execute(f"ALTER TABLE {OLD_TABLE} RENAME TO {TABLE}")
            # The event link is a plain id now; `instantly` re-adds the database constraint.
            schema_editor.execute(drop_foreign_keys_sql(TABLE, "source_event_id"))
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)
        schema_editor.execute(rls_sql(TABLE))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("campaigns", "0003_row_level_security"),
        ("messaging", "0002_row_level_security"),
    ]

    operations = [
        AdoptOrCreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("meeting_booked", "Meeting booked"),
                            ("lead_interested", "Lead interested"),
                            ("other", "Other"),
                        ],
                        max_length=32,
                    ),
                ),
                ("title", models.CharField(max_length=300)),
                ("body", models.TextField(blank=True)),
                ("source_event_id", models.BigIntegerField(blank=True, null=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.campaign",
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.lead",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source_event_id", "kind"), name="uniq_notification_per_event"
                    )
                ],
            },
        ),
    ]
