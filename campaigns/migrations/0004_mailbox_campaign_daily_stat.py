"""Per-campaign daily figures of each mailbox (what a customer may see of a shared mailbox),
and the mailbox-wide daily figures made staff-only for shared mailboxes: their shared-read
policy goes, and rows that webhook processing filed under a campaign's organization are moved to
the mailbox's own (NULL for the agency's pool)."""

import django.db.models.deletion
from django.db import migrations, models

from accounts.rls import enable_rls
from accounts.tenancy import staff_scope_for_migration


def file_mailbox_days_under_the_mailbox(apps, schema_editor):
    staff_scope_for_migration(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_emailaccountdailystat s SET organization_id = m.organization_id "
            "FROM campaigns_emailaccount m WHERE s.email_account_id = m.id "
            "AND s.organization_id IS DISTINCT FROM m.organization_id"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("campaigns", "0003_row_level_security"),
    ]

    operations = [
        migrations.CreateModel(
            name="MailboxCampaignDailyStat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("sent", models.PositiveIntegerField(default=0)),
                ("bounced", models.PositiveIntegerField(default=0)),
                ("replied", models.PositiveIntegerField(default=0)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mailbox_daily_stats",
                        to="campaigns.campaign",
                    ),
                ),
                (
                    "email_account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="campaign_daily_stats",
                        to="campaigns.emailaccount",
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
                "ordering": ["-date"],
                "indexes": [
                    models.Index(
                        fields=["organization", "email_account", "date"],
                        name="mailboxcampaignday_org_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("email_account", "campaign", "date"),
                        name="uniq_mailbox_campaign_day",
                    )
                ],
            },
        ),
        enable_rls("campaigns_mailboxcampaigndailystat"),
        migrations.RunSQL(
            "DROP POLICY IF EXISTS tenant_read_shared ON campaigns_emailaccountdailystat",
            migrations.RunSQL.noop,
        ),
        migrations.RunPython(file_mailbox_days_under_the_mailbox, migrations.RunPython.noop),
    ]
