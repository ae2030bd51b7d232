"""Each organization's daily figures, kept by PostgreSQL beside its campaigns' (the ledger).

`campaigns_organizationdailystat` is an append-only ledger: after every statement that
inserts, updates or deletes rows of `campaigns_campaigndailystat`, a statement-level trigger
adds one row per (organization, day) the statement changed, holding the difference (new rows
minus old rows, from the statement's transition tables; nothing when it sums to zero). Staff's
figures over every organization read one row per organization and day instead of one per
campaign and day (450,000 for 5,000 campaigns over 90 days). `campaigns.daily_totals` reads
and compacts it.

The triggers run with the writer's rights and scope: a difference belongs to the rows the
statement could change, so it passes the same row-level security. A campaign moved to another
organization (an UPDATE of `organization_id`) takes its figures out of the old one's days and
into the new one's.

Backfilled from the existing rows in the same transaction: creating the triggers locks the
table against writers until the migration commits, so no write falls between the backfill and
the first trigger.
"""

import django.db.models.deletion
from django.db import migrations, models

from accounts.rls import enable_rls
from accounts.tenancy import staff_scope_for_migration

COUNTERS = (
    "sent", "contacted", "opened", "unique_opened", "clicked", "unique_clicked", "replied",
    "unique_replied", "auto_replied", "bounced", "unsubscribed", "interested",
    "meetings_booked", "opportunities",
)  # fmt: skip
LEDGER = "public.campaigns_organizationdailystat"
COLUMNS = ", ".join(COUNTERS)
SUMS = ", ".join(f"sum({name})" for name in COUNTERS)
NOT_ZERO = " OR ".join(f"sum({name}) <> 0" for name in COUNTERS)
NEGATED = ", ".join(f"-{name} AS {name}" for name in COUNTERS)


def _add(rows: str) -> str:
    return f"""
        INSERT INTO {LEDGER} (organization_id, date, compacted, {COLUMNS})
        SELECT organization_id, date, false, {SUMS} FROM ({rows}) AS d
        GROUP BY organization_id, date HAVING {NOT_ZERO};"""


NEW = f"SELECT organization_id, date, {COLUMNS} FROM new_rows"
OLD = f"SELECT organization_id, date, {NEGATED} FROM old_rows"

TRIGGERS = f"""
CREATE FUNCTION public.sb_campaign_days_inserted() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN {_add(NEW)} RETURN NULL; END $$;

CREATE FUNCTION public.sb_campaign_days_updated() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN {_add(NEW + " UNION ALL " + OLD)} RETURN NULL; END $$;

CREATE FUNCTION public.sb_campaign_days_deleted() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN {_add(OLD)} RETURN NULL; END $$;

CREATE TRIGGER organization_days_on_insert AFTER INSERT ON public.campaigns_campaigndailystat
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sb_campaign_days_inserted();
CREATE TRIGGER organization_days_on_update AFTER UPDATE ON public.campaigns_campaigndailystat
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sb_campaign_days_updated();
CREATE TRIGGER organization_days_on_delete AFTER DELETE ON public.campaigns_campaigndailystat
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sb_campaign_days_deleted();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS organization_days_on_insert ON public.campaigns_campaigndailystat;
DROP TRIGGER IF EXISTS organization_days_on_update ON public.campaigns_campaigndailystat;
DROP TRIGGER IF EXISTS organization_days_on_delete ON public.campaigns_campaigndailystat;
DROP FUNCTION IF EXISTS public.sb_campaign_days_inserted();
DROP FUNCTION IF EXISTS public.sb_campaign_days_updated();
DROP FUNCTION IF EXISTS public.sb_campaign_days_deleted();
"""


def backfill(apps, schema_editor):
    staff_scope_for_migration(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LEDGER} (organization_id, date, compacted, {COLUMNS}) "  # noqa: S608
            f"SELECT organization_id, date, true, {SUMS} "
            "FROM public.campaigns_campaigndailystat GROUP BY organization_id, date"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("campaigns", "0007_campaignday_date_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrganizationDailyStat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("compacted", models.BooleanField(default=False)),
                *[(name, models.IntegerField(default=0)) for name in COUNTERS],
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["-date"],
                "indexes": [
                    models.Index(fields=["organization", "date"], name="orgday_org_date_idx"),
                    models.Index(fields=["date"], name="orgday_date_idx"),
                    models.Index(
                        condition=models.Q(("compacted", False)),
                        fields=["date"],
                        name="orgday_pending_idx",
                    ),
                ],
            },
        ),
        enable_rls("campaigns_organizationdailystat"),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
