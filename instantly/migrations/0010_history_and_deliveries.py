"""History backfill state, deliveries recovered from Instantly's log, test deliveries."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from accounts.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("instantly", "0009_webhookevent_payload_pruned_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoryBackfill",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("emails_pass_open", models.BooleanField(default=False)),
                ("emails_cursor", models.CharField(blank=True, max_length=200)),
                ("emails_pass_until", models.DateTimeField(blank=True, null=True)),
                ("emails_pass_newest", models.DateTimeField(blank=True, null=True)),
                (
                    "emails_newest_at",
                    models.DateTimeField(
                        blank=True, help_text="Newest email of the last complete pass.", null=True
                    ),
                ),
                ("emails_first_done_at", models.DateTimeField(blank=True, null=True)),
                ("emails_fetched", models.PositiveIntegerField(default=0)),
                ("emails_written", models.PositiveIntegerField(default=0)),
                ("emails_pages", models.PositiveIntegerField(default=0)),
                ("leads_fetched", models.PositiveIntegerField(default=0)),
                ("leads_synced_at", models.DateTimeField(blank=True, null=True)),
                ("deliveries_reconciled_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "connection",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="history",
                        to="instantly.providerconnection",
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
                "verbose_name": "history backfill",
            },
        ),
        migrations.CreateModel(
            name="WebhookTest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "requested_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("arrived_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("waiting", "Waiting"),
                            ("arrived", "Arrived"),
                            ("missing", "Did not arrive"),
                            ("failed", "Instantly refused"),
                        ],
                        default="waiting",
                        max_length=16,
                    ),
                ),
                ("detail", models.TextField(blank=True)),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_tests",
                        to="instantly.providerconnection",
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
                "ordering": ["-requested_at"],
            },
        ),
        migrations.CreateModel(
            name="MissedDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dedupe_key", models.CharField(max_length=64)),
                ("log_id", models.CharField(blank=True, max_length=64)),
                ("event_type", models.CharField(blank=True, max_length=200)),
                ("logged_at", models.DateTimeField(blank=True, null=True)),
                ("status_code", models.IntegerField(blank=True, null=True)),
                ("retry_count", models.PositiveIntegerField(default=0)),
                ("error_message", models.TextField(blank=True)),
                (
                    "found_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="missed_deliveries",
                        to="instantly.providerconnection",
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
                (
                    "recovered_event",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="instantly.webhookevent",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "missed deliveries",
                "ordering": ["-found_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("connection", "dedupe_key"), name="uniq_missed")
                ],
            },
        ),
        enable_rls("instantly_historybackfill"),
        enable_rls("instantly_webhooktest"),
        enable_rls("instantly_misseddelivery"),
    ]
