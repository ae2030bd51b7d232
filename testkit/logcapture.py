"""A log handler for tests that sees records as the console handler does (context filter on)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from salesbrain.logs import ContextFilter, JsonFormatter


class JsonLines(logging.Handler):
    """Keeps every record as the JSON object production would write."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(ContextFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def matching(self, text: str) -> list[dict]:
        return [line for line in self.lines if text in line["message"]]


@contextmanager
def json_lines(level: int = logging.INFO) -> Iterator[JsonLines]:
    root = logging.getLogger()
    handler = JsonLines()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(min(level, saved))
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
