from django.db import migrations

from accounts.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [
        enable_rls("messaging_thread"),
        enable_rls("messaging_message"),
    ]
