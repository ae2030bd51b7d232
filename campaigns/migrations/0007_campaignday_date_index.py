"""Daily figures indexed by date alone: a period over every organization (staff's stats) read
the whole history before (3,650,000 rows for two years of 5,000 campaigns), and now reads the
period's days. Built concurrently: the table keeps taking counters meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("campaigns", "0006_codes_lead_labels_campaign_overview")]

    operations = [
        AddIndexConcurrently(
            model_name="campaigndailystat",
            index=models.Index(fields=["date"], name="campaignday_date_idx"),
        )
    ]
