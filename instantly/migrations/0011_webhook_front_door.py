"""The webhook receiver's one round trip, and claims that stay cheap as `webhook_event` grows.

`sb_store_webhook_delivery(secret_digest, ...)` finds the connection whose webhook secret has
that SHA-256 digest and stores the delivery for it, in one statement (so, in autocommit, one
round trip that commits before the receiver answers). It runs as the owner role
(SECURITY DEFINER) and signs a staff scope for itself only: the function's `SET` clauses put
the caller's `app.scope` / `app.scope_proof` back when it returns, so a caller never comes
out of it with more than it went in with. What the application role can do with it: store a
delivery for the connection whose secret digest it already knows, and learn that
connection's id and organization (which the delivery's sender knows anyway). It cannot read
a digest it does not have (connections are tenant rows), nor any other row.

The partial index serves the claim of pending first attempts (`queue._CLAIM_MORE`): a scan of
the pending rows only, however many processed ones the table holds. Built concurrently, so
a large table keeps taking deliveries while it is built.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

STORE_SQL = """
CREATE OR REPLACE FUNCTION public.sb_store_webhook_delivery(
    p_secret_digest text,
    p_payload jsonb,
    p_event_type_raw text,
    p_event_type text,
    p_dedupe_key text,
    p_campaign_instantly_id text,
    p_occurred_at timestamptz,
    p_received_at timestamptz,
    p_status text,
    p_last_error text,
    p_request_id text
) RETURNS TABLE (connection_id uuid, organization_id uuid, event_id bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET app.scope = ''
    SET app.scope_proof = ''
AS $$
#variable_conflict use_column
DECLARE
    v_connection uuid;
    v_organization uuid;
    v_event bigint;
BEGIN
    -- A staff scope signed for this session, undone by the SET clauses on return.
    PERFORM pg_catalog.set_config('app.scope', 'staff', true),
            pg_catalog.set_config('app.scope_proof', pg_catalog.encode(pg_catalog.sha256(
                k.outer_pad || pg_catalog.sha256(k.inner_pad || pg_catalog.convert_to(
                    'staff:' || pg_catalog.pg_backend_pid()::text, 'UTF8'))), 'hex'), true)
       FROM salesbrain_private.scope_key AS k WHERE k.id = 1;

    SELECT c.id, c.organization_id INTO v_connection, v_organization
      FROM public.instantly_providerconnection AS c
     WHERE c.webhook_secret_digest = p_secret_digest;
    IF v_connection IS NULL THEN
        RETURN;  -- no row: nobody has this secret
    END IF;

    INSERT INTO public.instantly_webhookevent AS e (
        organization_id, connection_id, payload, event_type_raw, event_type, dedupe_key,
        campaign_instantly_id, occurred_at, received_at, request_id, status, attempts,
        last_error
    ) VALUES (
        v_organization, v_connection, p_payload, p_event_type_raw, p_event_type,
        p_dedupe_key, p_campaign_instantly_id, p_occurred_at, p_received_at, p_request_id,
        p_status, 0, p_last_error
    )
    ON CONFLICT ON CONSTRAINT uniq_delivery DO NOTHING
    RETURNING e.id INTO v_event;

    connection_id := v_connection;
    organization_id := v_organization;
    event_id := v_event;  -- NULL: a duplicate
    RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION public.sb_store_webhook_delivery(
    text, jsonb, text, text, text, text, timestamptz, timestamptz, text, text, text
) FROM PUBLIC;
"""

GRANT_SQL = """
GRANT EXECUTE ON FUNCTION public.sb_store_webhook_delivery(
    text, jsonb, text, text, text, text, timestamptz, timestamptz, text, text, text
) TO {role};
"""

DROP_SQL = """
DROP FUNCTION IF EXISTS public.sb_store_webhook_delivery(
    text, jsonb, text, text, text, text, timestamptz, timestamptz, text, text, text
);
"""


def grant_to_app_role(apps, schema_editor):
    from django.conf import settings

    schema_editor.execute(GRANT_SQL.format(role=schema_editor.quote_name(settings.APP_DB_USER)))


class Migration(migrations.Migration):
    atomic = False  # the index is built concurrently

    dependencies = [("instantly", "0010_history_and_deliveries")]

    operations = [
        migrations.RunSQL(STORE_SQL, DROP_SQL),
        migrations.RunPython(grant_to_app_role, migrations.RunPython.noop),
        AddIndexConcurrently(
            model_name="webhookevent",
            index=models.Index(
                fields=["id"],
                condition=models.Q(status="pending", attempts=0),
                name="webhookevent_pending_idx",
            ),
        ),
    ]
