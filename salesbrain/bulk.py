"""One way to write many rows at once: insert, update, compare-and-write, ensure by natural key.

The sync (thousands of mailboxes, campaigns and daily figures per run), webhook processing (a
batch of events touches hundreds of contacts, leads and threads) and ingest all write through
here, so every bulk write in the project is the same kind of statement:

- **One SQL strategy.** A batch travels as one binary array per column, unpacked in the server
  by `unnest(%b::type[], ...)` and bound server-side: the statement text is the same whatever
  the batch size, nothing is quoted into SQL text, and no value is escaped in Python (JSON goes
  as text, cast to jsonb in the server). Measured against the other candidate, one jsonb
  document unpacked by `jsonb_to_recordset`, on 10,000 rows (`bench/bulk_write.py`), this one
  was faster for inserts and updates alike.
- **Why not bulk_create/bulk_update:** with psycopg's client-side binding (Django's default),
  bulk_create escapes every JSON value inside an array with a Python regex (seconds for the raw
  payloads of 5,000 mailboxes), and bulk_update builds one CASE WHEN per row and column.
- **Safe to repeat and to race:** inserts default to `ON CONFLICT DO NOTHING` (what was written
  comes back, so a caller learns what is new); rows are written in key order, the one order
  every writer uses, so concurrent batches never deadlock.

Only model metadata (quoted table and column names, SQL types) is ever interpolated into SQL.
This module is the project's base layer: it imports Django and psycopg, never an app.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

import psycopg
from django.db import connection as default_connection
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

T = TypeVar("T")
Row = Mapping[str, Any]

# Rows per statement: fewer statements are faster (bench/bulk_write.py: 5,000 rows beat 250 on
# every table, most of all for updates), but one statement's parameters are in memory at once:
# 5,000 campaigns with their sequences (~10 kB each) would weigh ~50 MB.
ROWS_PER_STATEMENT = 5_000


# --- batches and statements ------------------------------------------------------------------


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items in order (the last may be shorter), from a list or an iterator
    alike: an iterator is consumed as it comes, never read whole first."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def execute(sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
    """Run one statement in the current transaction, bound server-side (`%b` binds a
    parameter in binary); answer its rows (if any)."""
    if isinstance(params, Mapping):
        params = {name: plain(value) for name, value in params.items()}
    else:
        params = [plain(value) for value in params]
    default_connection.ensure_connection()
    # Django's DatabaseError family, like every other query: callers (the webhook receiver's
    # 503, the tasks' retry) catch one set of errors.
    with default_connection.wrap_database_errors:
        with psycopg.Cursor(default_connection.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


def plain(value: Any) -> Any:
    """Choices enums as their values (psycopg would write an Enum's name)."""
    return value.value if isinstance(value, enum.Enum) else value


def unnest_sql(casts: Sequence[str]) -> str:
    """`unnest(%b::type[], ...)` for columns of the given SQL types."""
    return "unnest(" + ", ".join(f"%b::{cast}[]" for cast in casts) + ")"


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows given as tuples -> one list per column: the parameters of an `unnest(...)`."""
    return [[plain(v) for v in column] for column in zip(*rows, strict=True)] or [
        [] for _ in range(width)
    ]


def key_order(key: Hashable) -> tuple[str, ...]:
    """The order rows are written in, whatever their key's types (UUIDs, ints, NULLs): any
    order does, as long as every writer uses the same one."""
    return tuple(map(str, key)) if isinstance(key, tuple) else (str(key),)


# --- insert and update -----------------------------------------------------------------------


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Row | models.Model],
    *,
    on_conflict: str = "ON CONFLICT DO NOTHING",
    returning: Sequence[str] = ("id",),
) -> list[tuple]:
    """INSERT rows (dicts by attname, or unsaved instances); answer the `returning` columns of
    the rows written, in row order. Fields a dict leaves out get their model default (a
    callable default of a unique field, like a UUID key, is called per row).

    With the default `ON CONFLICT DO NOTHING`, rows that already existed are simply not in the
    answer: that is how callers learn what is new. `on_conflict=""` makes a conflict an error.
    """
    if not rows:
        return []
    fields, insert_select = _insert_sql(model)
    quote = default_connection.ops.quote_name
    sql = f"{insert_select} {on_conflict}"
    if returning:
        sql += f" RETURNING {', '.join(quote(c) for c in returning)}"
    getters = [_getter(f) for f in fields]
    written: list[tuple] = []
    for chunk in chunks(rows, ROWS_PER_STATEMENT):
        written.extend(execute(sql, [[get(row) for row in chunk] for get in getters]))
    return written


def update_rows(model: type[models.Model], rows: Sequence[Row], fields: Iterable[str]) -> None:
    """UPDATE the named fields (attnames) of rows given as dicts with their primary key, one
    statement per batch, in primary-key order.

    The join is `t.pk = v.pk` alone: PostgreSQL then hashes the batch or probes the primary key
    per row, linear either way. An extra `t.pk = ANY(ids)` made it expect a single matching
    row (the row-level security filter defeats its estimates) and pick a nested loop that
    compares every row of the batch with every other: twice the time at 250 rows."""
    names = sorted(set(fields))
    if not rows or not names:
        return
    pk = model._meta.pk
    targets = [model._meta.get_field(name) for name in names]
    quote = default_connection.ops.quote_name
    table, key = quote(model._meta.db_table), quote(pk.column)
    assignments = ", ".join(f"{quote(f.column)} = {_read(f, 'v')}" for f in targets)
    sql = (
        f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - names from models
        f"FROM {unnest_sql([_cast(f) for f in [pk, *targets]])} "
        f"AS v({', '.join(quote(f.column) for f in [pk, *targets])}) "
        f"WHERE t.{key} = v.{key}"
    )
    ordered = sorted(rows, key=lambda row: row[pk.attname])
    for chunk in chunks(ordered, ROWS_PER_STATEMENT):
        ids = [row[pk.attname] for row in chunk]
        values = [[_encode(f, row[f.attname]) for row in chunk] for f in targets]
        execute(sql, [ids, *values])


def increment(
    model: type[models.Model],
    rows: Sequence[Row],
    key_fields: Sequence[str],
    counters: Sequence[str],
) -> None:
    """INSERT rows, or add their `counters` to the stored row with the same key (one
    `ON CONFLICT ... DO UPDATE SET x = x + EXCLUDED.x` per batch; give rows sorted by key)."""
    quote = default_connection.ops.quote_name
    table = quote(model._meta.db_table)
    target = ", ".join(quote(model._meta.get_field(name).column) for name in key_fields)
    additions = ", ".join(
        f"{c} = {table}.{c} + EXCLUDED.{c}"
        for c in (quote(model._meta.get_field(name).column) for name in counters)
    )
    insert_rows(
        model, rows, on_conflict=f"ON CONFLICT ({target}) DO UPDATE SET {additions}", returning=()
    )


@functools.cache
def _insert_sql(model: type[models.Model]) -> tuple[list[models.Field], str]:
    """The fields `insert_rows` writes for a model and its `INSERT ... SELECT FROM unnest`."""
    quote = default_connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.generated and not f.db_returning]
    names = ", ".join(quote(f.column) for f in fields)
    selects = ", ".join(_read(f, "u") for f in fields)
    return fields, (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608 - names from models
        f"SELECT {selects} FROM {unnest_sql([_cast(f) for f in fields])} AS u({names})"
    )


def _cast(f: models.Field) -> str:
    """The SQL type a column's values travel as: JSON goes as text (see `_read`)."""
    return "text" if isinstance(f, models.JSONField) else f.db_type(default_connection)


def _read(f: models.Field, alias: str) -> str:
    """How a statement reads a column's value from the unnested arrays."""
    column = f"{alias}.{default_connection.ops.quote_name(f.column)}"
    return f"{column}::jsonb" if isinstance(f, models.JSONField) else column


def _encode(f: models.Field, value: Any) -> Any:
    if isinstance(f, models.JSONField) and value is not None:
        return json.dumps(value, cls=f.encoder)
    return plain(value)


def _getter(f: models.Field):
    """How to read field `f` from a row (dict or instance): defaults filled, JSON encoded."""
    name = f.attname
    per_row = f.has_default() and callable(f.default) and (f.primary_key or f.unique)
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        default = timezone.now()
    else:
        default = None if per_row else f.get_default()

    def get(row):
        if isinstance(row, models.Model):
            value = f.pre_save(row, add=True)  # fills auto_now fields, as save() would
        elif name in row:
            value = row[name]
        else:
            value = f.get_default() if per_row else default
        return _encode(f, value)

    return get


# --- compare, then write ---------------------------------------------------------------------


@dataclasses.dataclass
class Counts:
    """What a bulk write did to one kind of row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows no longer wanted, retired by the caller (deleted, or stamped as gone).
    vanished: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.vanished

    def add(self, other: Counts) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def __str__(self) -> str:
        text = f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"
        return text + (f", {self.vanished} vanished" if self.vanished else "")


def rows_by(queryset: QuerySet, key_fields: Sequence[str]) -> dict[tuple, dict[str, Any]]:
    """Stored rows as dicts (every column, by attname) keyed by the values of `key_fields`:
    what `upsert` compares with."""
    return {tuple(row[name] for name in key_fields): row for row in queryset.values()}


def upsert(
    model: type[models.Model],
    stored: dict[Hashable, dict[str, Any]],
    wanted: Mapping[Hashable, Row],
    *,
    touch: Row | None = None,
) -> Counts:
    """Create the wanted rows that are not stored, update those that differ, count the rest.

    `stored` maps a key to the stored row (a dict by attname with its primary key, e.g. from
    `rows_by`), `wanted` maps keys to column values: a new row's values hold every column it
    needs beyond the model defaults, its natural key included. Rows are compared as plain
    dicts, never model instances, so tens of thousands of rows stay cheap; only the columns
    that differ somewhere are written. `touch` is set on every changed row (an `updated_at`,
    which no bulk UPDATE sets by itself).

    `stored` is brought up to date, new rows added with their primary key: the caller goes on
    from it (ids to link to, rows no longer wanted).
    """
    counts = Counts()
    pk = model._meta.pk
    to_create: list[tuple[Hashable, dict[str, Any]]] = []
    to_update: list[dict[str, Any]] = []
    changed_fields: set[str] = set()
    for key, values in wanted.items():
        row = stored.get(key)
        if row is None:
            to_create.append((key, dict(values)))
            continue
        changed = [name for name, value in values.items() if row[name] != value]
        if not changed:
            counts.unchanged += 1
            continue
        changed_fields.update(changed)
        row.update(values)
        if touch:
            row.update(touch)
        to_update.append(row)
    if to_update and touch:
        changed_fields.update(touch)
    created = insert_rows(
        model, [values for _key, values in to_create], on_conflict="", returning=(pk.column,)
    )
    for (key, values), (pk_value,) in zip(to_create, created, strict=True):
        values[pk.attname] = pk_value
        stored[key] = values
    update_rows(model, to_update, changed_fields)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


# --- rows by natural key ---------------------------------------------------------------------


def find(
    model: type[models.Model],
    key_fields: Sequence[str],
    keys: Iterable[tuple],
    returning: str | Sequence[str] = "id",
) -> dict[tuple, Any]:
    """Stored rows with the given natural keys (tuples of `key_fields` values): key -> the
    `returning` column (one name) or columns (a tuple of names). A None in a key matches NULL.
    One statement: each key column is matched against its list of values, and the pairs
    that were not asked for are dropped here."""
    keys = set(keys)
    if not keys:
        return {}
    quote = default_connection.ops.quote_name
    key_columns = [model._meta.get_field(name) for name in key_fields]
    conditions, params = [], []
    for index, f in enumerate(key_columns):
        values = {key[index] for key in keys}
        condition = f"{quote(f.column)} = ANY(%b::{_cast(f)}[])"
        if None in values:
            condition = f"({condition} OR {quote(f.column)} IS NULL)"
        conditions.append(condition)
        params.append(sorted(values - {None}, key=str))
    single = isinstance(returning, str)
    answer = [returning] if single else list(returning)
    selected = [*(f.column for f in key_columns), *answer]
    rows = execute(
        f"SELECT {', '.join(quote(c) for c in selected)} "  # noqa: S608 - names from models
        f"FROM {quote(model._meta.db_table)} WHERE {' AND '.join(conditions)}",
        params,
    )
    width = len(key_fields)
    return {
        row[:width]: row[width] if single else row[width:] for row in rows if row[:width] in keys
    }


def ensure(
    model: type[models.Model],
    key_fields: Sequence[str],
    wanted: Mapping[tuple, Row],
    returning: str | Sequence[str] = "id",
) -> dict[tuple, Any]:
    """Like `find`, creating the rows not found first: `wanted` maps each natural key to the
    other values a new row gets. Inserted in key order with `ON CONFLICT DO NOTHING`, then read
    back, so concurrent workers creating the same rows race safely."""
    found = find(model, key_fields, wanted, returning)
    missing = sorted(set(wanted) - set(found), key=key_order)
    if missing:
        insert_rows(
            model,
            [{**dict(zip(key_fields, key, strict=True)), **wanted[key]} for key in missing],
            returning=(),
        )
        found.update(find(model, key_fields, missing, returning))
    return found


def lock_rows(model: type[models.Model], ids: Iterable[Any]) -> None:
    """Lock rows in primary-key order: the one order every batch uses, so workers cannot
    deadlock.

    `FOR NO KEY UPDATE`, the lock an UPDATE of non-key columns takes anyway: it excludes other
    writers but not foreign-key checks (`FOR KEY SHARE`) of rows inserted elsewhere, which
    would otherwise deadlock with it at commit.
    """
    ids = sorted(set(ids))
    if ids:
        quote = default_connection.ops.quote_name
        pk = model._meta.pk
        execute(
            f"SELECT {quote(pk.column)} FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE {quote(pk.column)} = ANY(%b::{_cast(pk)}[]) "
            f"ORDER BY {quote(pk.column)} FOR NO KEY UPDATE",
            [ids],
        )
