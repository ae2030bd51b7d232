"""Message search that uses an index under row-level security.

PostgreSQL never evaluates a non-leakproof operator such as the text match `@@` before a
table's row-level security quals, so under RLS it cannot use a full-text index: a customer's
search scanned every message of their organization, and staff search every message.

The fix keeps isolation in the database: `sb_search_message_ids()` is a SECURITY DEFINER
function owned by `sb_search_reader`, a role that cannot log in and that nobody is a member of.
A `FOR SELECT TO sb_search_reader USING (true)` policy makes RLS a no-op for that role only, so
inside the function the planner may use `message_org_search_gin` (organization_id,
search_vector; btree_gin) or the global `message_search_gin`. The function itself restricts to
the transaction's verified scope (`sb_current_org()` / `sb_staff_bypass()`, the same signed
scope the policies trust), never to an argument: its optional `only_org` can only narrow a
scope, and with no scope or a forged one it returns nothing.

Not atomic: the index is built concurrently so processing keeps writing messages meanwhile.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import AddIndexConcurrently, BtreeGinExtension
from django.db import migrations

SEARCH_ROLE = "sb_search_reader"

# Roles are cluster-wide: other databases on the server (test databases, say) may create it at
# the same moment, hence the tolerated duplicate.
CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{SEARCH_ROLE}') THEN
        CREATE ROLE {SEARCH_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"""

POLICY = f"""
GRANT SELECT ON public.messaging_message TO {SEARCH_ROLE};
CREATE POLICY search_reader ON public.messaging_message FOR SELECT TO {SEARCH_ROLE}
    USING (true);
"""

# EXECUTE ... USING plans each call with the actual organization, query and limit, so the
# planner picks per query: the GIN index for rare words, the (organization, sent_at) index
# read newest first for words in most messages. Newest matches first, at most `max_rows`:
# the caller ranks only these candidates (see messaging.search).
FUNCTION = """
CREATE OR REPLACE FUNCTION public.sb_search_message_ids(
    query tsquery, max_rows integer, only_org uuid DEFAULT NULL
) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    ROWS 1000
AS $$
DECLARE
    org uuid := public.sb_current_org();
BEGIN
    IF org IS NOT NULL THEN
        IF only_org IS NOT NULL AND only_org <> org THEN
            RETURN;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT m.id FROM public.messaging_message AS m
             WHERE m.organization_id = $1 AND m.search_vector @@ $2
             ORDER BY m.sent_at DESC, m.id DESC LIMIT $3'
            USING org, query, max_rows;
    ELSIF public.sb_staff_bypass() THEN
        IF only_org IS NOT NULL THEN
            RETURN QUERY EXECUTE
                'SELECT m.id FROM public.messaging_message AS m
                 WHERE m.organization_id = $1 AND m.search_vector @@ $2
                 ORDER BY m.sent_at DESC, m.id DESC LIMIT $3'
                USING only_org, query, max_rows;
        ELSE
            RETURN QUERY EXECUTE
                'SELECT m.id FROM public.messaging_message AS m
                 WHERE m.search_vector @@ $1
                 ORDER BY m.sent_at DESC, m.id DESC LIMIT $2'
                USING query, max_rows;
        END IF;
    END IF;
END
$$;
"""

# The owner must be a member of a role to hand it a function (unless superuser): join it for
# that one statement and leave, so the owner never holds the role's see-everything policy.
OWN_FUNCTION = f"""
DO $$
DECLARE
    superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT superuser THEN
        EXECUTE format('GRANT {SEARCH_ROLE} TO %I', current_user);
    END IF;
    ALTER FUNCTION public.sb_search_message_ids(tsquery, integer, uuid) OWNER TO {SEARCH_ROLE};
    IF NOT superuser THEN
        EXECUTE format('REVOKE {SEARCH_ROLE} FROM %I', current_user);
    END IF;
END $$;
"""

REVERSE = f"""
DROP FUNCTION IF EXISTS public.sb_search_message_ids(tsquery, integer, uuid);
DROP POLICY IF EXISTS search_reader ON public.messaging_message;
REVOKE ALL ON public.messaging_message FROM {SEARCH_ROLE};
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messaging", "0008_reply_categories"),
    ]

    operations = [
        BtreeGinExtension(),
        AddIndexConcurrently(
            model_name="message",
            index=GinIndex(fields=["organization", "search_vector"], name="message_org_search_gin"),
        ),
        migrations.RunSQL(CREATE_ROLE + POLICY + FUNCTION + OWN_FUNCTION, REVERSE, elidable=False),
    ]
