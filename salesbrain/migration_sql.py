"""SQL for foreign keys that cross the app layers, for migrations.

A lower app's model keeps a plain id column for a row of a higher app (a campaign's workspace
connection, the webhook event behind a message), so its migrations never depend on the higher
app. The higher app's migration then puts the database constraint on that column, so the
database still refuses a dangling id.
"""

from __future__ import annotations


def drop_foreign_keys_sql(table: str, column: str) -> str:
    """Drop every foreign key constraint on `table`.`column`, whatever it is named.

    (No `%` in the SQL: it also runs through `schema_editor.execute()` with parameters.)"""
    return f"""
        DO $$
        DECLARE c record;
        BEGIN
            FOR c IN
                SELECT con.conname FROM pg_constraint con
                JOIN pg_attribute att
                  ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
                WHERE con.contype = 'f' AND con.conrelid = '{table}'::regclass
                  AND att.attname = '{column}'
            LOOP
                EXECUTE 'ALTER TABLE {table} DROP CONSTRAINT ' || quote_ident(c.conname);
            END LOOP;
        END $$;
    """


def foreign_key_sql(table: str, column: str, target: str, on_delete: str) -> str:
    """(Re)create the one foreign key of `table`.`column` to `target`(id)."""
    return drop_foreign_keys_sql(table, column) + (
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
        f"REFERENCES {target} (id) ON DELETE {on_delete} DEFERRABLE INITIALLY DEFERRED;"
    )
