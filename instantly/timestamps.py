"""The range a timestamp from Instantly must fall in before it touches a column.

PostgreSQL stores `0001-01-01T00:00:00+14:00` (year 1 BC in UTC) and `9999-12-31T23:59:59-14:00`
(year 10000), but Python cannot read them back, so one such value in a column breaks every page
that lists the row. Nothing Salesbrain mirrors happened before 2000 or more than a day from now
(clocks drift, time zones differ): anything outside is treated as missing. The raw value stays
in the stored payload; callers fall back to the receipt time or leave the column empty.
No Django here: the API client's payload schemas use it too.
"""

from __future__ import annotations

import datetime as dt

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
AHEAD = dt.timedelta(days=1)


def sane_timestamp(value: dt.datetime | None, *, now: dt.datetime | None = None):
    """`value` in UTC when it lies in 2000..now+1 day, else None (naive = UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        value = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None  # outside the years Python can count once in UTC
    latest = (now or dt.datetime.now(dt.UTC)) + AHEAD
    return value if EARLIEST <= value <= latest else None


# Columns that take timestamps from Instantly: emptied when out of range (the payloads keep
# the raw values). Activity and message times cannot be empty: they fall back to when the
# event was received (or the row created). Thread times are then recomputed from messages.
_OUT_OF_RANGE = "({col} < '2000-01-01 00:00:00+00' OR {col} > now() + interval '1 day')"
_NULLABLE = {
    "instantly_webhookevent": ("occurred_at",),
    "campaigns_campaign": ("completed_at", "upstream_created_at", "upstream_updated_at"),
    "campaigns_emailaccount": (
        "last_error_at", "last_used_at", "upstream_created_at", "upstream_updated_at",
    ),
    "campaigns_contact": ("last_activity_at",),
    "campaigns_lead": ("status_at", "interest_status_at", "last_activity_at"),
}  # fmt: skip
_RECEIVED = "(SELECT e.received_at FROM instantly_webhookevent e WHERE e.id = t.source_event_id)"
_REQUIRED = {
    "campaigns_activity": ("occurred_at", f"COALESCE({_RECEIVED}, now())"),
    "messaging_message": ("sent_at", f"COALESCE({_RECEIVED}, t.created_at)"),
}
_THREAD_TIMES = {
    "last_message_at": "SELECT max(m.sent_at) FROM messaging_message m WHERE m.thread_id = t.id",
    "last_inbound_at": (
        "SELECT max(m.sent_at) FROM messaging_message m "
        "WHERE m.thread_id = t.id AND m.direction = 'inbound'"
    ),
}


def repair_stored_timestamps(cursor) -> dict[str, int]:
    """Put every stored Instantly timestamp back in range (see the module doc); answer the
    number of rows changed per table. Needs a scope that sees every row (staff)."""
    changed: dict[str, int] = {}

    def run(table: str, sql: str) -> None:
        cursor.execute(sql)
        changed[table] = changed.get(table, 0) + cursor.rowcount

    for table, cols in _NULLABLE.items():
        for col in cols:
            bad = _OUT_OF_RANGE.format(col=col)
            run(table, f"UPDATE {table} SET {col} = NULL WHERE {bad}")  # noqa: S608 - constants
    for table, (col, fallback) in _REQUIRED.items():
        bad = _OUT_OF_RANGE.format(col=f"t.{col}")
        run(table, f"UPDATE {table} t SET {col} = {fallback} WHERE {bad}")  # noqa: S608
    for col, latest in _THREAD_TIMES.items():
        bad = _OUT_OF_RANGE.format(col=f"t.{col}")
        run("messaging_thread", f"UPDATE messaging_thread t SET {col} = ({latest}) WHERE {bad}")  # noqa: S608
    return changed
