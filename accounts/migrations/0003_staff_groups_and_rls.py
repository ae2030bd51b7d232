"""Staff groups (permissions are synced after every migrate) and RLS on Notification."""

from django.db import migrations

from accounts.rls import enable_rls
from accounts.roles import STAFF_GROUPS


def create_staff_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in STAFF_GROUPS:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_staff_groups, migrations.RunPython.noop),
        enable_rls("accounts_notification"),
    ]
