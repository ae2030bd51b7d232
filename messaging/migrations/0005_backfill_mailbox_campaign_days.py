"""Fill the per-campaign mailbox days (campaigns 0004) from what is already recorded: campaign
emails sent and replies received (messages), bounces (activities). The same events webhook
processing counts from now on."""

from django.db import migrations

from accounts.tenancy import staff_scope_for_migration

BACKFILL = """
    INSERT INTO campaigns_mailboxcampaigndailystat
        (organization_id, email_account_id, campaign_id, date, sent, bounced, replied)
    SELECT c.organization_id, x.email_account_id, x.campaign_id, x.day,
           sum(x.sent), sum(x.bounced), sum(x.replied)
      FROM (
        SELECT email_account_id, campaign_id, (sent_at AT TIME ZONE 'UTC')::date AS day,
               (kind = 'campaign')::int AS sent, 0 AS bounced, (kind = 'reply')::int AS replied
          FROM messaging_message
         WHERE kind IN ('campaign', 'reply') AND sent_at IS NOT NULL
           AND email_account_id IS NOT NULL AND campaign_id IS NOT NULL
        UNION ALL
        SELECT email_account_id, campaign_id, (occurred_at AT TIME ZONE 'UTC')::date, 0, 1, 0
          FROM campaigns_activity
         WHERE kind = 'bounced' AND email_account_id IS NOT NULL AND campaign_id IS NOT NULL
      ) AS x
      JOIN campaigns_campaign c ON c.id = x.campaign_id
     GROUP BY c.organization_id, x.email_account_id, x.campaign_id, x.day
    ON CONFLICT (email_account_id, campaign_id, date) DO NOTHING
"""


def backfill(apps, schema_editor):
    staff_scope_for_migration(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0004_reply_and_triage"),
        ("campaigns", "0004_mailbox_campaign_daily_stat"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
