"""Lead score columns, a do-not-contact flag and a proposed interest status."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("campaigns", "0004_mailbox_campaign_daily_stat"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="do_not_contact",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="lead",
            name="proposed_interest_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("out_of_office", "Out of office"),
                    ("interested", "Interested"),
                    ("meeting_booked", "Meeting booked"),
                    ("meeting_completed", "Meeting completed"),
                    ("closed", "Closed (won)"),
                    ("neutral", "Neutral"),
                    ("not_interested", "Not interested"),
                    ("wrong_person", "Wrong person"),
                    ("lost", "Lost"),
                    ("no_show", "No show"),
                    ("custom", "Custom label"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="score",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="lead",
            name="score_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="score_counts",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="lead",
            name="score_value",
            field=models.FloatField(default=0.0),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["organization", "-score"], name="lead_score_idx"),
        ),
    ]
