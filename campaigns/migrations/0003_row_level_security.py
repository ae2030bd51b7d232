from django.db import migrations

from accounts.rls import CURRENT_ORG, enable_rls

# A shared mailbox is readable by the organizations whose campaigns send from it.
MAILBOX_USED_BY_TENANT = (
    "id IN (SELECT email_account_id FROM campaigns_campaignsender "
    f"WHERE organization_id = {CURRENT_ORG})"
)
MAILBOX_STAT_USED_BY_TENANT = (
    "email_account_id IN (SELECT email_account_id FROM campaigns_campaignsender "
    f"WHERE organization_id = {CURRENT_ORG})"
)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_initial")]

    operations = [
        enable_rls("campaigns_campaign"),
        enable_rls("campaigns_emailaccount", extra_read_using=MAILBOX_USED_BY_TENANT),
        enable_rls("campaigns_campaignsender"),
        enable_rls("campaigns_contact"),
        enable_rls("campaigns_lead"),
        enable_rls("campaigns_activity"),
        enable_rls("campaigns_campaigndailystat"),
        enable_rls("campaigns_campaignstepstat"),
        enable_rls("campaigns_emailaccountdailystat", extra_read_using=MAILBOX_STAT_USED_BY_TENANT),
    ]
