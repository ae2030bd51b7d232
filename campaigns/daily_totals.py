"""Each organization's daily figures: the ledger PostgreSQL keeps beside the campaigns' days.

`OrganizationDailyStat` holds, for each (organization, day), rows whose sum equals the sum of
that organization's `CampaignDailyStat` rows of the day; triggers keep it so (migration
campaigns 0008). Figures over many campaigns (staff's every organization, a customer's
dashboard) read it instead of every campaign's days: `stats.period_figures` takes either.

`compact()` (beat, every minute) folds the trigger's differences into one row per day, so the
ledger stays about one row per organization and day. `rebuild()` recomputes it from the
campaigns' days, for a database loaded with triggers switched off
(`session_replication_role = replica`, as `pg_restore --disable-triggers` or a bulk loader does).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection, transaction

from accounts.tenancy import staff_scope

from .models import CampaignDailyStat, OrganizationDailyStat

logger = logging.getLogger(__name__)

LEDGER = OrganizationDailyStat._meta.db_table
DAYS = CampaignDailyStat._meta.db_table
COLUMNS = ", ".join(OrganizationDailyStat.COUNTERS)
SUMS = ", ".join(f"sum({name})" for name in OrganizationDailyStat.COUNTERS)
NOT_ZERO = " OR ".join(f"sum({name}) <> 0" for name in OrganizationDailyStat.COUNTERS)

# The days with differences pending, all their rows taken out and put back as one row each
# (none when they sum to zero: a deleted organization's days disappear). Safe beside the
# triggers and beside another compaction: a difference committed after this statement's
# snapshot is neither deleted nor counted, and a row another compaction deleted first is
# skipped by this DELETE, so every row is summed exactly once.
COMPACT_SQL = f"""
    WITH pending AS (
        SELECT DISTINCT organization_id, date FROM {LEDGER} WHERE NOT compacted
    ), taken AS (
        DELETE FROM {LEDGER} AS l USING pending AS p
        WHERE l.date = p.date AND l.organization_id IS NOT DISTINCT FROM p.organization_id
        RETURNING l.*
    )
    INSERT INTO {LEDGER} (organization_id, date, compacted, {COLUMNS})
    SELECT organization_id, date, true, {SUMS} FROM taken
    GROUP BY organization_id, date HAVING {NOT_ZERO}
"""  # noqa: S608 - table and column names only

REBUILD_SQL = f"""
    INSERT INTO {LEDGER} (organization_id, date, compacted, {COLUMNS})
    SELECT organization_id, date, true, {SUMS} FROM {DAYS} GROUP BY organization_id, date
"""  # noqa: S608 - table and column names only


# The (organization, day) pairs whose ledger sum is not their campaigns' sum (none, unless
# rows were written with triggers off).
DIFFERENCES_SQL = f"""
    SELECT coalesce(l.organization_id, d.organization_id), coalesce(l.date, d.date)
    FROM (SELECT organization_id, date, {SUMS} FROM {LEDGER} GROUP BY 1, 2 HAVING {NOT_ZERO}) l
    FULL JOIN (SELECT organization_id, date, {SUMS} FROM {DAYS} GROUP BY 1, 2 HAVING {NOT_ZERO}) d
      ON l.organization_id IS NOT DISTINCT FROM d.organization_id AND l.date = d.date
    WHERE l.* IS DISTINCT FROM d.*
    ORDER BY 2, 1
"""  # noqa: S608 - table and column names only


# Compaction and rebuild take turns (a transaction-level advisory lock): a rebuild's DELETE
# would skip the rows a compaction running beside it had just replaced, and keep its new
# sums beside the rebuilt ones. Two compactions at once would only do the same work twice.
ADVISORY_LOCK = 0x5B_DA11_7075  # any constant of this module's own


def compact() -> int:
    """Fold each day's pending differences into its one row; answer how many rows were folded
    (0 also when a compaction or rebuild is running: the next run does it)."""
    with staff_scope(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT count(*) FROM {LEDGER} WHERE NOT compacted")  # noqa: S608
        pending = cursor.fetchone()[0]
        if pending:
            cursor.execute(COMPACT_SQL)
    return pending


def rebuild() -> int:
    """Recompute the ledger from the campaigns' days; answer how many rows it now holds.

    Writers of daily figures wait meanwhile (SHARE lock), so none is counted twice or lost;
    so does a compaction already running (the advisory lock).
    """
    with staff_scope(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        cursor.execute(f"LOCK TABLE {DAYS} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {LEDGER}")  # noqa: S608
        cursor.execute(REBUILD_SQL)
        return cursor.rowcount


def differences() -> list[tuple]:
    """(organization id, day) of every day the ledger gets wrong (see DIFFERENCES_SQL)."""
    with staff_scope(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DIFFERENCES_SQL)
        return cursor.fetchall()


@shared_task(name="campaigns.daily_totals.compact_daily_totals", ignore_result=True)
def compact_daily_totals() -> int:
    folded = compact()
    if folded:
        logger.debug("compacted organization days", extra={"rows": folded})
    return folded
