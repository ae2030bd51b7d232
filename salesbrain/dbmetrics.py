"""Counting database queries, by what sent them, for every connection of every process.

An execute wrapper (Django's hook around each query) is installed on each connection as it
opens; it counts into `salesbrain_db_queries_total{source}`, where source is the URL name of
the request or the Celery task the log context names, and into the enclosing
`counting_queries()` block (the request middleware's per-request figure).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from salesbrain import logs, metrics

_tally: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "salesbrain_query_tally", default=None
)


# One counter child per source, looked up once: `labels()` costs more than the increment.
_counters: dict[str, object] = {}


def query_source() -> str:
    return logs.bound("view") or logs.bound("task") or "other"


def count_query(execute, sql, params, many, context):
    source = query_source()
    counter = _counters.get(source)
    if counter is None:
        counter = _counters[source] = metrics.DB_QUERIES.labels(source=source)
    counter.inc()
    tally = _tally.get()
    if tally is not None:
        tally[0] += 1
    return execute(sql, params, many, context)


def install(sender=None, connection=None, **kwargs) -> None:
    """`connection_created` receiver: first in line, once per connection wrapper (Django's
    `execute_wrapper()` blocks append and pop at the end)."""
    if connection is not None and count_query not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, count_query)


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the queries of the enclosed code: `tally[0]` once the block ends."""
    tally = [0]
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)
