"""Signed tenant scope: the RLS policies of every tenant table ask `sb_current_org()` and
`sb_staff_bypass()`, which trust only a scope signed with a key the application role cannot
read (see `accounts.rls`). Before, `set_config('app.bypass_rls', 'on', true)` was enough.

Here, in the top layer, because it rewrites the policies of every app's tables.
"""

from django.db import migrations

from accounts.rls import BYPASS, CURRENT_ORG, SCOPE_FUNCTIONS_SQL, store_scope_key

SHARED_READ = {
    "campaigns_emailaccount": (
        "id IN (SELECT email_account_id FROM campaigns_campaignsender "
        f"WHERE organization_id = {CURRENT_ORG})"
    ),
    "campaigns_emailaccountdailystat": (
        "email_account_id IN (SELECT email_account_id FROM campaigns_campaignsender "
        f"WHERE organization_id = {CURRENT_ORG})"
    ),
}


def sign_the_scope(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        store_scope_key(cursor)
        cursor.execute(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public' "
            "AND policyname IN ('tenant_isolation', 'staff_bypass', 'tenant_read_shared') "
            "ORDER BY tablename, policyname"
        )
        for table, policy in cursor.fetchall():
            if policy == "tenant_isolation":
                using = f"organization_id = {CURRENT_ORG}"
                check = using
            elif policy == "staff_bypass":
                using = check = BYPASS
            else:
                using, check = SHARED_READ[table], None
            statement = f"ALTER POLICY {policy} ON {table} USING ({using})"
            if check:
                statement += f" WITH CHECK ({check})"
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("campaigns", "0003_row_level_security"),
        ("messaging", "0004_reply_and_triage"),
        ("instantly", "0004_operations"),
    ]

    operations = [
        migrations.RunSQL(SCOPE_FUNCTIONS_SQL, migrations.RunSQL.noop),
        migrations.RunPython(sign_the_scope, migrations.RunPython.noop),
    ]
