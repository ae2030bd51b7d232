"""When a processed event's raw payload was pruned, and an index of what is left to prune.

The column is nullable without a default (a catalog change, no table rewrite) and the partial
index is built concurrently, so ingest keeps writing while this runs on a large table.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("instantly", "0008_blocklist_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="payload_pruned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        AddIndexConcurrently(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("payload_pruned_at__isnull", True), ("status", "processed")),
                fields=["received_at"],
                name="webhookevent_prune_idx",
            ),
        ),
    ]
