"""Message search reads one index, week by week in a large organization, newest first.

A GIN index answers `words AND "org <uuid>"` by walking the posting list of the rarest of
those lexemes. In an organization of 1,000,000 messages, "calendar demo" (each word in about
15% of all messages) walked about 740,000 entries: 50 ms of the search's 55 in the database,
and a phrase such as "next quarter" then rechecked 12,000 rows, oldest first.

One two-column GIN index, `message_search_scope_gin`, now holds each message's words
(`search_vector`) and its scope lexemes: `org <uuid>` and `org <uuid> week <n>` (n counts weeks
from Monday 1970-01-05 UTC, `sb_message_week(sent_at)`). It replaces both
`message_search_gin` (the words: staff's search uses the first column alone) and
`message_org_search_gin` (words and organization in one expression, which a phrase's recheck
had to rebuild for every candidate row), so a message's words are indexed once, not twice.

When the newest messages (step 1 of `sb_search_message_ids`, unchanged) hold too few
matches, step 2 asks the index week by week, newest week first: each question walks at most
one week of the organization, and the walk stops once `max_rows` matches are found, so the
candidates are now the newest matches (they were the first ones in table order). After 13
weeks without enough, the whole organization is asked as before.

Not atomic: the index is built and the old ones dropped concurrently, so processing keeps
writing messages meanwhile.
"""

from importlib import import_module

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations

search_0009 = import_module("messaging.migrations.0009_search_under_rls")
SEARCH_ROLE = search_0009.SEARCH_ROLE

# Weeks since Monday 1970-01-05 00:00 UTC. An interval of days has no months, so its epoch is
# exact and the function is truly immutable (extract() of a timestamptz is only stable).
WEEK_FUNCTION = """
CREATE OR REPLACE FUNCTION public.sb_message_week(sent_at timestamptz) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.floor(pg_catalog.date_part('epoch',
        sent_at OPERATOR(pg_catalog.-) '1970-01-05 00:00:00+00'::pg_catalog.timestamptz)
        OPERATOR(pg_catalog./) 604800)::integer
$$;
"""
DROP_WEEK_FUNCTION = "DROP FUNCTION IF EXISTS public.sb_message_week(timestamptz);"

# "org <uuid>" and "org <uuid> week <n>": lexemes with spaces, which the text parser never
# makes, so no message text can forge them (and the function checks organization_id besides).
_ORG = "COALESCE({t}organization_id::text, 'shared')"
SCOPE_LEXEMES = (
    "pg_catalog.array_to_tsvector(ARRAY["
    f"'org ' OPERATOR(pg_catalog.||) {_ORG}, "
    f"'org ' OPERATOR(pg_catalog.||) {_ORG} OPERATOR(pg_catalog.||) ' week ' "
    "OPERATOR(pg_catalog.||) public.sb_message_week({t}sent_at)::text])"
)
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_search_scope_gin "
    "ON public.messaging_message USING gin (search_vector, (" + SCOPE_LEXEMES.format(t="") + "))"
)
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS public.message_search_scope_gin"

# Step 1 as in 0009. Step 2 for an organization: its weeks, newest first (at most 13, each a
# bitmap of one week's messages at most), each week's newest `max_rows` matches (those step 1
# found are among them, and are left out); then, if still short, the whole organization
# through the same index, for as many more as are wanted (those found already left out, so
# that a word in fewer than `max_rows` messages is still found in full).
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
    found bigint[];
    batch bigint[];
    newest_rows integer := 4 * max_rows;
    week integer;
    oldest_week integer;
    weeks_asked integer := 0;
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

    IF org IS NULL THEN  -- every organization: the index's first column, the words
        PERFORM pg_catalog.set_config('enable_indexscan', 'off', true);
        PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
        RETURN QUERY EXECUTE
            'SELECT pg_catalog.unnest($2)
             UNION ALL
             (SELECT m.id FROM public.messaging_message AS m
              WHERE m.search_vector @@ $1 AND m.id <> ALL ($2) LIMIT $3)'
            USING query, newest, max_rows - pg_catalog.cardinality(newest);
        RETURN;
    END IF;

    SELECT public.sb_message_week(pg_catalog.max(m.sent_at)),
           public.sb_message_week(pg_catalog.min(m.sent_at))
      INTO week, oldest_week
      FROM public.messaging_message AS m WHERE m.organization_id = org;
    PERFORM pg_catalog.set_config('enable_indexscan', 'off', true);
    PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
    found := newest;
    WHILE pg_catalog.cardinality(found) < max_rows AND week >= oldest_week AND weeks_asked < 13
    LOOP
        EXECUTE
            'SELECT coalesce(array_agg(w.id ORDER BY w.sent_at DESC, w.id DESC), ''{}'')
             FROM (SELECT m.id, m.sent_at FROM public.messaging_message AS m
                   WHERE m.search_vector @@ $2
                     AND {scope} @@ pg_catalog.quote_literal(
                             ''org '' || $1::text || '' week '' || $3::text)::tsquery
                     AND m.organization_id::text = $1::text
                   ORDER BY m.sent_at DESC, m.id DESC LIMIT $4) AS w'
            INTO batch USING org, query, week, max_rows;
        found := found || ARRAY(
            SELECT b.id FROM pg_catalog.unnest(batch) WITH ORDINALITY AS b(id, n)
            WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(newest) AS s(id) WHERE s.id = b.id)
            ORDER BY b.n);
        week := week - 1;
        weeks_asked := weeks_asked + 1;
    END LOOP;
    IF pg_catalog.cardinality(found) >= max_rows OR week < oldest_week OR week IS NULL THEN
        RETURN QUERY SELECT pg_catalog.unnest(found[1:max_rows]);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT pg_catalog.unnest($3)
         UNION ALL
         (SELECT m.id FROM public.messaging_message AS m
          WHERE m.search_vector @@ $2
            AND {scope} @@ pg_catalog.quote_literal(''org '' || $1::text)::tsquery
            AND m.organization_id::text = $1::text
            AND m.id <> ALL ($3)
          LIMIT $4)'
        USING org, query, found, max_rows - pg_catalog.cardinality(found);
END
$$;
"""
FUNCTION = FUNCTION.replace("{scope}", SCOPE_LEXEMES.format(t="m.").replace("'", "''"))

# Replacing a function takes its owner's rights: the owner role (unless superuser) joins the
# search role for this migration only, and 0009's hand-over statement leaves it again.
JOIN_ROLE = f"""
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT {SEARCH_ROLE} TO %I', current_user);
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("messaging", "0011_message_list_order_indexes")]

    operations = [
        migrations.RunSQL(WEEK_FUNCTION, DROP_WEEK_FUNCTION, elidable=False),
        migrations.RunSQL(CREATE_INDEX, DROP_INDEX, elidable=False),
        migrations.RunSQL(
            JOIN_ROLE + FUNCTION + search_0009.OWN_FUNCTION,
            JOIN_ROLE + search_0009.FUNCTION + search_0009.OWN_FUNCTION,
            elidable=False,
        ),
        migrations.RunSQL(search_0009.DROP_INDEX, search_0009.CREATE_INDEX, elidable=False),
        RemoveIndexConcurrently("message", "message_search_gin"),
    ]
