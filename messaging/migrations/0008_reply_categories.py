"""Reply categories on messages and threads, corrections as labels, per-organization reply
settings (actions and lead-scoring points)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from accounts.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("campaigns", "0005_lead_score"),
        ("messaging", "0007_feed_notify_and_rls"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="categorised_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("interested", "Interested"),
                    ("meeting_request", "Meeting request"),
                    ("information_request", "Information request"),
                    ("not_interested", "Not interested"),
                    ("do_not_contact", "Do not contact"),
                    ("out_of_office", "Out of office"),
                    ("wrong_person", "Wrong person"),
                    ("auto_reply", "Automatic reply"),
                    ("bounce", "Bounce"),
                ],
                db_index=True,
                max_length=24,
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="category_confidence",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="category_source",
            field=models.CharField(
                blank=True,
                choices=[
                    ("rule", "Rule"),
                    ("model", "Model"),
                    ("llm", "LLM"),
                    ("person", "Person"),
                ],
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="referral",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="returns_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="thread",
            name="category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("interested", "Interested"),
                    ("meeting_request", "Meeting request"),
                    ("information_request", "Information request"),
                    ("not_interested", "Not interested"),
                    ("do_not_contact", "Do not contact"),
                    ("out_of_office", "Out of office"),
                    ("wrong_person", "Wrong person"),
                    ("auto_reply", "Automatic reply"),
                    ("bounce", "Bounce"),
                ],
                db_index=True,
                max_length=24,
            ),
        ),
        migrations.AddField(
            model_name="thread",
            name="category_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="thread",
            name="category_confidence",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="thread",
            name="returns_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("meeting_booked", "Meeting booked"),
                    ("lead_interested", "Lead interested"),
                    ("reply_interested", "Reply: interested"),
                    ("reply_meeting", "Reply: meeting request"),
                    ("other", "Other"),
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="CategoryLabel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("interested", "Interested"),
                            ("meeting_request", "Meeting request"),
                            ("information_request", "Information request"),
                            ("not_interested", "Not interested"),
                            ("do_not_contact", "Do not contact"),
                            ("out_of_office", "Out of office"),
                            ("wrong_person", "Wrong person"),
                            ("auto_reply", "Automatic reply"),
                            ("bounce", "Bounce"),
                        ],
                        max_length=24,
                    ),
                ),
                ("previous_category", models.CharField(blank=True, max_length=24)),
                ("previous_confidence", models.FloatField(blank=True, null=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="labels",
                        to="messaging.message",
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
            },
        ),
        migrations.CreateModel(
            name="ReplySettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "notify_positive_replies",
                    models.BooleanField(
                        default=True,
                        help_text="Notify on replies categorised interested or meeting request.",
                    ),
                ),
                (
                    "propose_interest_status",
                    models.BooleanField(
                        default=True,
                        help_text="Propose an interest status when Instantly's is blank.",
                    ),
                ),
                (
                    "block_do_not_contact",
                    models.BooleanField(
                        default=True,
                        help_text="Unsubscribe the lead and add the address to the workspace's Instantly block list when a reply asks never to be contacted again.",
                    ),
                ),
                (
                    "block_min_confidence",
                    models.FloatField(
                        default=0.9,
                        help_text="Only act on do-not-contact replies at least this sure (0-1).",
                    ),
                ),
                (
                    "score_half_life_days",
                    models.FloatField(
                        default=14.0, help_text="Days after which an event counts half."
                    ),
                ),
                (
                    "score_points",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="Points per scored event (overrides the defaults).",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
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
                "verbose_name_plural": "reply settings",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization",), name="uniq_reply_settings_per_org"
                    )
                ],
            },
        ),
        enable_rls("messaging_categorylabel"),
        enable_rls("messaging_replysettings"),
    ]
