"""Row-level security for tenant tables (the PostgreSQL half of tenant isolation).

Every tenant table gets RLS enabled *and forced* (so even the table owner is bound) with two
permissive policies: rows of the transaction's organization, and everything when server code has
switched on the staff bypass. Rows with `organization_id` NULL (the agency's shared workspace)
match no organization, so only the bypass shows them. Migrations call `enable_rls(table)`.
"""

from __future__ import annotations

from django.db import migrations

CURRENT_ORG = "NULLIF(current_setting('app.current_org', true), '')::uuid"
BYPASS = "current_setting('app.bypass_rls', true) = 'on'"


def rls_sql(table: str, extra_read_using: str | None = None) -> str:
    """SQL that puts `table` under the tenant policies.

    `extra_read_using` adds a read-only policy, for rows a tenant may see without owning them
    (a shared mailbox that sends for the tenant's campaigns).
    """
    sql = f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON {table}
            USING (organization_id = {CURRENT_ORG})
            WITH CHECK (organization_id = {CURRENT_ORG});
        CREATE POLICY staff_bypass ON {table}
            USING ({BYPASS})
            WITH CHECK ({BYPASS});
    """
    if extra_read_using:
        sql += f"""
        CREATE POLICY tenant_read_shared ON {table} FOR SELECT
            USING ({extra_read_using});
        """
    return sql


def rls_reverse_sql(table: str, extra_read_using: str | None = None) -> str:
    sql = f"""
        DROP POLICY IF EXISTS tenant_isolation ON {table};
        DROP POLICY IF EXISTS staff_bypass ON {table};
        DROP POLICY IF EXISTS tenant_read_shared ON {table};
        ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
        ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
    """
    return sql


def enable_rls(table: str, extra_read_using: str | None = None) -> migrations.RunSQL:
    """A migration operation that puts `table` under row-level security."""
    return migrations.RunSQL(
        rls_sql(table, extra_read_using), rls_reverse_sql(table, extra_read_using)
    )
