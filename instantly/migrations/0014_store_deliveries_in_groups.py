"""The receiver stores deliveries in groups: `sb_store_webhook_deliveries`, one statement (and
one commit) for every delivery a worker process received while the last group was written.

It does what `sb_store_webhook_delivery` (0011) did for one delivery, for many: each delivery
is authenticated by its own secret's digest (a group may mix connections; a delivery whose
digest no connection has gets no row back and stores nothing), inserted with
`ON CONFLICT ON CONSTRAINT uniq_delivery DO NOTHING`, and answered with its position in the
arrays (1-based), its connection and organization, and its new row's id (NULL: a duplicate).

- Two deliveries of one group with the same dedupe key for the same connection (a retry that
  raced its original) store one row: the first, by position; the other is answered as its
  duplicate.
- Rows are inserted in (connection, dedupe key) order, the one order every group uses, so two
  groups that each hold the other's duplicate wait for one another in the same order and never
  deadlock.
- Payloads travel as text (see `salesbrain.bulk`) and are cast to jsonb here.

It runs as the owner role (SECURITY DEFINER) in a staff scope signed for itself only, put back
by its `SET` clauses on return, like 0011's function, which it replaces. That one stays for
now: workers still running the previous code while a deploy migrates keep storing with it
(and going back to that code needs no migration). A later migration drops it.
"""

from django.db import migrations

STORE_MANY_SQL = """
CREATE OR REPLACE FUNCTION public.sb_store_webhook_deliveries(
    p_secret_digests text[],
    p_payloads text[],
    p_event_types_raw text[],
    p_event_types text[],
    p_dedupe_keys text[],
    p_campaign_instantly_ids text[],
    p_occurred_at timestamptz[],
    p_received_at timestamptz[],
    p_statuses text[],
    p_last_errors text[],
    p_request_ids text[]
) RETURNS TABLE (ordinal integer, connection_id uuid, organization_id uuid, event_id bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET app.scope = ''
    SET app.scope_proof = ''
AS $$
#variable_conflict use_column
BEGIN
    -- A staff scope signed for this session, undone by the SET clauses on return.
    PERFORM pg_catalog.set_config('app.scope', 'staff', true),
            pg_catalog.set_config('app.scope_proof', pg_catalog.encode(pg_catalog.sha256(
                k.outer_pad || pg_catalog.sha256(k.inner_pad || pg_catalog.convert_to(
                    'staff:' || pg_catalog.pg_backend_pid()::text, 'UTF8'))), 'hex'), true)
       FROM salesbrain_private.scope_key AS k WHERE k.id = 1;

    RETURN QUERY
    WITH delivery AS (
        SELECT d.*, c.id AS conn_id, c.organization_id AS org_id
          FROM unnest(p_secret_digests, p_payloads, p_event_types_raw, p_event_types,
                      p_dedupe_keys, p_campaign_instantly_ids, p_occurred_at, p_received_at,
                      p_statuses, p_last_errors, p_request_ids) WITH ORDINALITY
               AS d(secret_digest, payload, event_type_raw, event_type, dedupe_key,
                    campaign_instantly_id, occurred_at, received_at, status, last_error,
                    request_id, n)
          JOIN public.instantly_providerconnection AS c
            ON c.webhook_secret_digest = d.secret_digest
    ), first_of_key AS (
        SELECT DISTINCT ON (d.conn_id, d.dedupe_key) d.*
          FROM delivery AS d
         ORDER BY d.conn_id, d.dedupe_key, d.n
    ), inserted AS (
        INSERT INTO public.instantly_webhookevent AS e (
            organization_id, connection_id, payload, event_type_raw, event_type, dedupe_key,
            campaign_instantly_id, occurred_at, received_at, request_id, status, attempts,
            last_error
        )
        SELECT f.org_id, f.conn_id, f.payload::jsonb, f.event_type_raw, f.event_type,
               f.dedupe_key, f.campaign_instantly_id, f.occurred_at, f.received_at,
               f.request_id, f.status, 0, f.last_error
          FROM first_of_key AS f
         ORDER BY f.conn_id, f.dedupe_key
        ON CONFLICT ON CONSTRAINT uniq_delivery DO NOTHING
        RETURNING e.id, e.connection_id, e.dedupe_key
    )
    SELECT d.n::integer, d.conn_id, d.org_id, i.id
      FROM delivery AS d
      LEFT JOIN first_of_key AS f ON f.n = d.n
      LEFT JOIN inserted AS i
        ON f.n IS NOT NULL AND i.connection_id = d.conn_id AND i.dedupe_key = d.dedupe_key
     ORDER BY d.n;
END
$$;
REVOKE ALL ON FUNCTION public.sb_store_webhook_deliveries(
    text[], text[], text[], text[], text[], text[], timestamptz[], timestamptz[], text[],
    text[], text[]
) FROM PUBLIC;
"""

GRANT_SQL = """
GRANT EXECUTE ON FUNCTION public.sb_store_webhook_deliveries(
    text[], text[], text[], text[], text[], text[], timestamptz[], timestamptz[], text[],
    text[], text[]
) TO {role};
"""

DROP_MANY_SQL = """
DROP FUNCTION IF EXISTS public.sb_store_webhook_deliveries(
    text[], text[], text[], text[], text[], text[], timestamptz[], timestamptz[], text[],
    text[], text[]
);
"""


def grant_to_app_role(apps, schema_editor):
    from django.conf import settings

    schema_editor.execute(GRANT_SQL.format(role=schema_editor.quote_name(settings.APP_DB_USER)))


class Migration(migrations.Migration):
    dependencies = [("instantly", "0013_scope_functions_parallel_restricted")]

    operations = [
        migrations.RunSQL(STORE_MANY_SQL, DROP_MANY_SQL),
        migrations.RunPython(grant_to_app_role, migrations.RunPython.noop),
    ]
