"""The tenant-scope functions are PARALLEL RESTRICTED (see accounts.rls): queries under row-level
security may run in parallel, with the functions evaluated in the leader only.

They were created by migration 0005 (from `accounts.rls.SCOPE_FUNCTIONS_SQL`, which now says
so too, for new databases); this marks them in databases that already have them.
"""

from django.db import migrations

FUNCTIONS = ("sb_verified_scope()", "sb_current_org()", "sb_staff_bypass()")


class Migration(migrations.Migration):
    dependencies = [("instantly", "0012_webhookevent_fewer_indexes")]

    operations = [
        migrations.RunSQL(
            [f"ALTER FUNCTION public.{f} PARALLEL RESTRICTED" for f in FUNCTIONS],
            [f"ALTER FUNCTION public.{f} PARALLEL UNSAFE" for f in FUNCTIONS],
        )
    ]
