"""Timestamps from Instantly outside 2000..now+1 day, stored before they were checked on the way
in, are put back in range (see `instantly.timestamps`): some could not even be read by Python,
and a single one broke every page listing its row."""

from django.db import migrations

from accounts.tenancy import staff_scope_for_migration
from instantly.timestamps import repair_stored_timestamps


def repair(apps, schema_editor):
    staff_scope_for_migration(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        repair_stored_timestamps(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("instantly", "0005_signed_tenant_scope"),
        ("campaigns", "0004_mailbox_campaign_daily_stat"),
        ("messaging", "0005_backfill_mailbox_campaign_days"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
