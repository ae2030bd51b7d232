"""Database foreign keys on the lower apps' plain id columns that point at this app's rows.

`campaigns` and `messaging` sit below `instantly`, so their models hold a connection or a
webhook event as a plain id and their migrations never depend on this app. The constraints are
put here instead (any older, Django-named constraint on the column is replaced), so a new
database and one made before the layering end up identical. A connection is protected while
campaigns or mailboxes use it; a deleted webhook event leaves its rows with no source.
"""

from django.db import migrations

from salesbrain.migration_sql import drop_foreign_keys_sql, foreign_key_sql

LINKS = [
    ("campaigns_campaign", "connection_id", "instantly_providerconnection", "NO ACTION"),
    ("campaigns_emailaccount", "connection_id", "instantly_providerconnection", "NO ACTION"),
    ("campaigns_activity", "source_event_id", "instantly_webhookevent", "SET NULL"),
    ("messaging_message", "source_event_id", "instantly_webhookevent", "SET NULL"),
    ("messaging_notification", "source_event_id", "instantly_webhookevent", "SET NULL"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("instantly", "0002_row_level_security"),
        ("campaigns", "0003_row_level_security"),
        ("messaging", "0003_notification"),
    ]

    operations = [
        migrations.RunSQL(
            foreign_key_sql(table, column, target, on_delete),
            drop_foreign_keys_sql(table, column),
        )
        for table, column, target, on_delete in LINKS
    ]
