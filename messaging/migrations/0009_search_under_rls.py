"""Message search that uses an index under row-level security.

PostgreSQL never evaluates a non-leakproof operator such as the text match `@@` before a
table's row-level security quals, so under RLS it cannot use a full-text index: a customer's
search scanned every message of their organization, and staff search every message.

The fix keeps isolation in the database: `sb_search_message_ids()` is a SECURITY DEFINER
function owned by `sb_search_reader`, a role that cannot log in and that nobody is a member of.
A `FOR SELECT TO sb_search_reader USING (true)` policy makes RLS a no-op for that role only, so
inside the function the planner may use `message_org_search_gin` (the words plus a lexeme
naming the organization, see ORG_WORDS) or the global `message_search_gin`. The function itself restricts to
the transaction's verified scope (`sb_current_org()` / `sb_staff_bypass()`, the same signed
scope the policies trust), never to an argument: its optional `only_org` can only narrow a
scope, and with no scope or a forged one it returns nothing.

Not atomic: the index is built concurrently so processing keeps writing messages meanwhile.
"""

from django.db import migrations

SEARCH_ROLE = "sb_search_reader"

# The words of a message plus one lexeme naming its organization, "org <uuid>": the parser never
# makes a lexeme with a space, so no message text can forge it (and the function checks
# organization_id as well). Plain GIN, no extension: the embedded PostgreSQL of `make run` has
# no btree_gin. Only the function's query uses this expression, so ordinary
# `organization_id = ...` filters never pick this index (on a btree_gin column they did: a
# bitmap of a whole organization, 317 ms at 1,000,000 messages, where the campaign index takes
# 3 ms).
ORG_WORDS = (
    "({t}search_vector OPERATOR(pg_catalog.||) pg_catalog.array_to_tsvector("
    "ARRAY['org ' OPERATOR(pg_catalog.||) "
    "COALESCE({t}organization_id::text, 'shared')]))"
)
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_org_search_gin "
    "ON public.messaging_message USING gin (" + ORG_WORDS.format(t="") + ")"
)
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS public.message_org_search_gin"

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

# The candidates: the newest `max_rows` matches, found in two steps so that no estimate of the
# planner's can turn a search into a scan of the whole organization (the text-match estimates
# are rough: a phrase is estimated as if its words were enough).
# 1. The newest `4 * max_rows` messages of the scope, newest first through (organization,
#    sent_at) or sent_at: bounded work, and enough for a word found in most messages. A word
#    found in at least one in 32 of them is looked for once more, further back (as far as its
#    frequency says is needed, at most 40 x max_rows).
# 2. Only when that finds fewer than `max_rows`: matches through the GIN index (bitmap scans
#    only; index and sequential scans are switched off for this statement, and back on at the
#    function's end by its SET clauses), at most `max_rows` of them, in table order. A word in
#    fewer than `max_rows` messages is thus always found in full.
# EXECUTE ... USING plans each statement with the actual organization, query and limits.
# `org` NULL means every organization (staff without `only_org`).
FUNCTION = """
CREATE OR REPLACE FUNCTION public.sb_search_message_ids(
    query tsquery, max_rows integer, only_org uuid DEFAULT NULL
) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET enable_indexscan = on
    SET enable_seqscan = on
    ROWS 500
AS $$
DECLARE
    org uuid := public.sb_current_org();
    scope text;
    newest bigint[];
    gin_scope text;
    newest_rows integer := 4 * max_rows;
BEGIN
    IF pg_catalog.numnode(query) = 0 THEN
        RETURN;  -- only stop words: matches nothing (AND-ed with the organization, it would not)
    END IF;
    IF org IS NOT NULL THEN
        IF only_org IS NOT NULL AND only_org <> org THEN
            RETURN;
        END IF;
    ELSIF public.sb_staff_bypass() THEN
        org := only_org;
    ELSE
        RETURN;
    END IF;
    scope := CASE WHEN org IS NULL THEN 'true' ELSE 'm.organization_id = $1' END;
    -- The words and the organization's lexeme, through message_org_search_gin; the check of
    -- organization_id is as text, so that no btree index is mixed into the bitmap.
    gin_scope := CASE WHEN org IS NULL THEN 'm.search_vector @@ $2'
        ELSE '{words} @@ ($2 OPERATOR(pg_catalog.&&) pg_catalog.quote_literal(''org '' || $1::text)::tsquery)
              AND m.organization_id::text = $1::text' END;
    FOR pass IN 1..2 LOOP
        EXECUTE format(
            'SELECT coalesce(array_agg(w.id ORDER BY w.sent_at DESC, w.id DESC), ''{}'')
             FROM (SELECT m.id, m.sent_at, m.search_vector FROM public.messaging_message AS m
                   WHERE %s ORDER BY m.sent_at DESC LIMIT $4) AS w
             WHERE w.search_vector @@ $2', scope)
            INTO newest USING org, query, max_rows, newest_rows;
        IF pg_catalog.cardinality(newest) >= max_rows THEN
            RETURN QUERY SELECT pg_catalog.unnest(newest[1:max_rows]);
            RETURN;
        END IF;
        -- In one message in 32 or more: reading further back (at most 40 x max_rows) costs
        -- less than a bitmap of the word's hundreds of thousands of matches.
        EXIT WHEN pg_catalog.cardinality(newest) * 8 < max_rows;
        newest_rows := pg_catalog.ceil(1.25 * newest_rows * max_rows
                                       / pg_catalog.cardinality(newest))::integer;
    END LOOP;
    PERFORM pg_catalog.set_config('enable_indexscan', 'off', true);
    PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
    RETURN QUERY EXECUTE format(
        'SELECT pg_catalog.unnest($3)
         UNION
         (SELECT m.id FROM public.messaging_message AS m
          WHERE %s LIMIT $4)', gin_scope)
        USING org, query, newest, max_rows - pg_catalog.cardinality(newest);
END
$$;
"""

FUNCTION = FUNCTION.replace("{words}", ORG_WORDS.format(t="m.").replace("'", "''"))

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
        migrations.RunSQL(CREATE_INDEX, DROP_INDEX, elidable=False),
        migrations.RunSQL(CREATE_ROLE + POLICY + FUNCTION + OWN_FUNCTION, REVERSE, elidable=False),
    ]
