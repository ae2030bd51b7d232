"""Staff groups (permissions are synced after every migrate).

(It also put accounts_notification under RLS; that table now belongs to `messaging`, whose
0003_notification creates it with RLS, or adopts it on a database made before the move.)"""

from django.db import migrations

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
    ]
