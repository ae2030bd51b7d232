"""Benchmark: the two bulk-write SQL strategies on 10,000 rows, same machine, same run.

    .venv/bin/python bench/bulk_write.py [--rows N] [--repeat N]

- `unnest`: one binary array per column, `INSERT ... SELECT FROM unnest(%b::type[], ...)` and
  `UPDATE ... FROM unnest(...)`, bound server-side: what `salesbrain.bulk` does.
- `jsonb`: one jsonb document per batch, unpacked by `jsonb_to_recordset`, sent through
  Django's cursor (client-side binding): what the sync did before `salesbrain.bulk`.

Each is timed at 250 and at 5,000 rows per statement (the two engines' old batch sizes), on a
wide table with raw JSON payloads (mailboxes, ~1 kB each) and a narrow one of numbers (campaign
daily figures): INSERT of N new rows, then UPDATE of three columns of all N. Every run is its
own committed transaction; the strategies take turns, repeated `--repeat` times, with the load
average printed beside each round (the machine is shared). A throw-away database is created,
migrated and dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_support import setup_django, throwaway_database  # noqa: E402

BATCH_SIZES = (250, 5000)


# --- the jsonb_to_recordset strategy (the sync's, before salesbrain.bulk) ----------------------


def jsonb_insert(model, rows, batch):
    from django.db import connection
    from django.utils import timezone

    auto_pk = model._meta.pk if model._meta.pk.db_returning else None
    fields = [f for f in model._meta.concrete_fields if f is not auto_pk and not f.generated]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
        f"SELECT {columns} FROM {_recordset(connection, fields)}"
    )
    now = timezone.now()
    for start in range(0, len(rows), batch):
        records = []
        for row in rows[start : start + batch]:
            record = {}
            for f in fields:
                if f.attname in row:
                    record[f.column] = row[f.attname]
                elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    record[f.column] = now
                else:
                    record[f.column] = f.get_default()
            records.append(record)
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(records, default=_json_default)])


def jsonb_update(model, rows, attnames, batch):
    from django.db import connection

    pk = model._meta.pk
    fields = [pk, *(f for f in model._meta.concrete_fields if f.attname in attnames)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = r.{quote(f.column)}" for f in fields[1:])
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "
        f"FROM {_recordset(connection, fields)} WHERE t.{quote(pk.column)} = r.{quote(pk.column)}"
    )
    for start in range(0, len(rows), batch):
        records = [
            {f.column: row[f.attname] for f in fields} for row in rows[start : start + batch]
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(records, default=_json_default)])


def _recordset(connection, fields):
    shape = ", ".join(
        f"{connection.ops.quote_name(f.column)} {f.db_type(connection).split('(')[0]}"
        for f in fields
    )
    return f"jsonb_to_recordset(%s::jsonb) AS r({shape})"


def _json_default(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


# --- the unnest strategy (salesbrain.bulk) ----------------------------------------------------


def unnest_insert(model, rows, batch):
    from salesbrain import bulk

    bulk.ROWS_PER_STATEMENT = batch
    bulk.insert_rows(model, rows, on_conflict="", returning=())


def unnest_update(model, rows, attnames, batch):
    from salesbrain import bulk

    bulk.ROWS_PER_STATEMENT = batch
    bulk.update_rows(model, rows, attnames)


STRATEGIES = {"unnest": (unnest_insert, unnest_update), "jsonb": (jsonb_insert, jsonb_update)}


# --- data -------------------------------------------------------------------------------------


def mailbox_rows(connection_id, count, rng):
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        email = f"sender{i}@mail{i % 97}.example"
        raw = {
            "email": email,
            "first_name": rng.choice(("Maya", "Liam", "Ana", "Noah")),
            "last_name": rng.choice(("Berg", "Costa", "Novak", "Okafor")),
            "status": 1,
            "provider_code": rng.choice((1, 2, 3)),
            "warmup_status": 1,
            "daily_limit": 50,
            "sending_gap": 10,
            "stat_warmup_score": rng.randint(60, 100),
            "tracking_domain_name": f"track{i % 13}.example",
            "warmup": {"limit": 20, "increment": "disabled", "reply_rate": 30,
                       "advanced": {"open_rate": 0.95, "important_rate": 0.8,
                                    "read_emulation": True, "spam_save_rate": 0.02}},
            "timestamp_created": (now - dt.timedelta(days=90)).isoformat(),
            "timestamp_updated": now.isoformat(),
            "timestamp_last_used": now.isoformat(),
            "signature": "<p>Best regards,<br>The team</p>" * 3,
            "organization": str(uuid.uuid4()),
        }  # fmt: skip
        rows.append(
            {
                "connection_id": connection_id,
                "email": email,
                "first_name": raw["first_name"],
                "last_name": raw["last_name"],
                "status": "active",
                "provider": "google",
                "daily_limit": 50,
                "sending_gap": 10,
                "warmup_status": "active",
                "warmup_score": raw["stat_warmup_score"],
                "warmup": raw["warmup"],
                "tracking_domain": raw["tracking_domain_name"],
                "last_used_at": now,
                "raw": raw,
                "upstream_created_at": now - dt.timedelta(days=90),
                "upstream_updated_at": now,
                "synced_at": now,
            }
        )
    return rows


def daily_rows(campaign_ids, count, rng):
    day0 = dt.date(2026, 1, 1)
    per_campaign = -(-count // len(campaign_ids))
    return [
        {
            "campaign_id": campaign_ids[i // per_campaign],
            "date": day0 + dt.timedelta(days=i % per_campaign),
            "sent": rng.randint(0, 500),
            "contacted": rng.randint(0, 300),
            "opened": rng.randint(0, 200),
            "unique_opened": rng.randint(0, 150),
            "replied": rng.randint(0, 20),
        }
        for i in range(count)
    ]


# --- the run ----------------------------------------------------------------------------------


def timed(action) -> float:
    from django.db import transaction

    from accounts.tenancy import staff_scope

    started = time.perf_counter()
    with staff_scope(), transaction.atomic():
        action()
    return time.perf_counter() - started


def one_round(strategy, batch, tables, rng):
    """Insert then update every table's rows with one strategy; seconds per (table, op)."""
    from accounts.tenancy import staff_scope

    insert, update = STRATEGIES[strategy]
    figures = {}
    for name, (model, rows, changed) in tables.items():
        with staff_scope():
            model.objects.unscoped().all().delete()
        figures[(name, "insert")] = timed(lambda: insert(model, rows, batch))  # noqa: B023
        with staff_scope():
            stored = list(model.objects.unscoped().values())
        for row in stored:
            for attname in changed:
                row[attname] = _changed(row[attname], rng)
        figures[(name, "update")] = timed(lambda: update(model, stored, changed, batch))  # noqa: B023
    return figures


def _changed(value, rng):
    if isinstance(value, dict):
        return {**value, "bench": rng.random()}
    if isinstance(value, int):
        return value + 1
    return "paused" if value == "active" else "active"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with throwaway_database("bench_bulk") as url:
        setup_django(url)
        from accounts.tenancy import staff_scope
        from campaigns.models import Campaign, CampaignDailyStat, EmailAccount
        from instantly.models import ProviderConnection
        from salesbrain import bulk

        rng = random.Random(1)
        with staff_scope():
            connection = ProviderConnection(name="Bench workspace", is_shared=True)
            connection.api_key = "bench-key-0000"
            connection.save()
            campaign_ids = [
                row[0]
                for row in bulk.insert_rows(
                    Campaign,
                    [
                        {"connection_id": connection.pk, "instantly_id": f"c{i}", "name": f"C {i}"}
                        for i in range(100)
                    ],
                )
            ]
        tables = {
            "mailboxes (wide, JSON)": (
                EmailAccount,
                mailbox_rows(connection.pk, args.rows, rng),
                ("status", "warmup_score", "raw"),
            ),
            "daily figures (narrow)": (
                CampaignDailyStat,
                daily_rows(campaign_ids, args.rows, rng),
                ("sent", "opened", "replied"),
            ),
        }
        results: dict[tuple, list[float]] = {}
        for round_no in range(1, args.repeat + 1):
            order = list(STRATEGIES) if round_no % 2 else list(reversed(STRATEGIES))
            for strategy in order:
                for batch in BATCH_SIZES:
                    figures = one_round(strategy, batch, tables, rng)
                    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                    for (table, op), seconds in figures.items():
                        results.setdefault((table, op, strategy, batch), []).append(seconds)
                    print(
                        f"round {round_no} {strategy:>6} x{batch:<5} "
                        + "  ".join(
                            f"{t.split()[0]} {op} {s:.3f}s" for (t, op), s in figures.items()
                        )
                        + f"   load {load}"
                    )
        from django.db import connections

        connections.close_all()

    print(f"\n{args.rows:,} rows, median of {args.repeat} (seconds; rows/s in brackets)")
    for table in tables:
        for op in ("insert", "update"):
            line = [f"  {table:<24} {op:<7}"]
            for strategy in STRATEGIES:
                for batch in BATCH_SIZES:
                    median = statistics.median(results[(table, op, strategy, batch)])
                    line.append(f"{strategy} x{batch}: {median:.3f} ({args.rows / median:,.0f}/s)")
            print("  ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
