from django.db import migrations

from accounts.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("instantly", "0001_initial")]

    operations = [
        enable_rls("instantly_providerconnection"),
        enable_rls("instantly_webhookevent"),
        enable_rls("instantly_alert"),
    ]
