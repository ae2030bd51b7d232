"""Structured logs: who and what every line is about, as JSON in production.

`log_context(request_id=..., event_id=...)` binds ids for the code it encloses (a contextvar,
so threads and nested Celery tasks each see their own); `ContextFilter`, attached to the
handlers, copies the bound ids onto every record, whichever logger wrote it. `JsonFormatter`
writes one object per line for log collectors; `TextFormatter` the same facts readably for a
terminal. One delivery can be followed from its receipt (`request_id`, `event_id`) to the
processing lines (`event_id`) and the rows they wrote.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The ids a line can carry, in the order the text format shows them.
CONTEXT_KEYS = (
    "request_id",
    "view",
    "organization_id",
    "user_id",
    "task",
    "task_id",
    "event_id",
    "sync_id",
    "connection_id",
)

_NOTHING_BOUND: dict[str, Any] = {}  # never mutated: `bind` outside a block does nothing
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "salesbrain_log_context", default=_NOTHING_BOUND
)


def current_context() -> dict[str, Any]:
    return dict(_context.get())


def bound(key: str) -> Any:
    """One bound id, or None (cheap: called for every database query)."""
    return _context.get().get(key)


@contextmanager
def log_context(**ids: Any) -> Iterator[dict[str, Any]]:
    """Bind `ids` (None values are skipped) on top of the current ones for the enclosed code."""
    bound = {**_context.get(), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(bound)
    try:
        yield bound
    finally:
        _context.reset(token)


def bind(**ids: Any) -> None:
    """Add ids to the context the enclosing `log_context` opened (the request middleware's
    block, once the view or the user is known); they go when that block ends."""
    current = _context.get()
    if current is _NOTHING_BOUND:
        return
    current.update({k: v for k, v in ids.items() if v is not None})


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (attach it to handlers, not loggers: a logger's
    filters do not see records its children propagate)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


# Attributes every LogRecord has: whatever else a record carries came through `extra=`. Django
# adds the request object to its error lines: its text holds the query string, which may hold
# a token, and the request id and path are on the lines already.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request", "server_time"}
)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context ids and `extra=` values of a record."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context ids
    and `extra=` fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(record_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message [key=value ...]` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = record_fields(record)
        if not fields:
            return line
        ordered = sorted(fields, key=lambda k: (CONTEXT_KEYS + (k,)).index(k))
        suffix = " ".join(f"{key}={fields[key]}" for key in ordered)
        head, newline, rest = line.partition("\n")  # keep a traceback below the ids
        return f"{head} [{suffix}]{newline}{rest}"


def logging_config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The LOGGING setting: every line to stderr through the context filter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "salesbrain.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "salesbrain.logs.JsonFormatter"},
            "text": {"()": "salesbrain.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_lines else "text",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Our middleware writes one line per request, with its ids; this one has none.
            "django.server": {"level": "WARNING"},
        },
    }
