"""Instantly's HTTP conventions as the sandbox speaks them: the request, the answer, the JSON
error body, route matching, query parameters and cursor pages.

Handlers raise `HttpError` (or ValueError for a 400 with Instantly's validation wording) and
return plain data; `SandboxApp` turns either into a `Response`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from instantly.sandbox.data import parse_date

DEFAULT_PAGE_LIMIT = 10
MAX_PAGE_LIMIT = 100
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class HttpError(Exception):
    """Answer with this status and Instantly's error body."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str) -> dict[str, Any]:
    """Instantly's error shape: {"statusCode", "error", "message"}."""
    return {"statusCode": status, "error": phrase(status), "message": message}


@dataclass
class Response:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


class Request:
    """The parts of a WSGI environ the handlers need, with the JSON body parsed on demand."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.method = environ["REQUEST_METHOD"].upper()
        # PEP 3333 hands the (already unquoted) path over as latin-1 text.
        raw_path = environ.get("PATH_INFO", "") or "/"
        self.path = raw_path.encode("latin-1").decode("utf-8", "replace")
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.authorization = environ.get("HTTP_AUTHORIZATION", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.raw_body = environ["wsgi.input"].read(length) if length > 0 else b""
        self._json: Any = None

    def json(self) -> dict[str, Any]:
        if self._json is None:
            if not self.raw_body:
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError:
                    raise HttpError(400, "Body is not valid JSON")
            if not isinstance(self._json, dict):
                raise HttpError(400, "body must be object")
        return self._json

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def many(self, name: str) -> list[str] | None:
        """A list parameter sent repeated (ids=a&ids=b), bracketed (ids[]=a) or comma-joined."""
        values = self.query.get(name, []) + self.query.get(f"{name}[]", [])
        if not values:
            return None
        return [part for value in values for part in value.split(",") if part]


Handler = Callable[..., Any]


class Router:
    """Finds the handler of a request in a table of (method, path template, handler).

    Templates name path parameters in braces (`/api/v2/campaigns/{id}`); the first match wins,
    so the table lists the most specific paths first."""

    def __init__(self, routes: Iterable[tuple[str, str, Handler]]) -> None:
        self._routes = [
            (method, template, _compile(template), handler) for method, template, handler in routes
        ]

    def match(self, request: Request) -> tuple[str | None, Handler | None, dict[str, str]]:
        """Route label ("GET /api/v2/campaigns/{id}"), handler and path parameters."""
        for method, template, pattern, handler in self._routes:
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match:
                return f"{method} {template}", handler, match.groupdict()
        return None, None, {}


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


# --- parameters and pages ----------------------------------------------------------------------


def page(
    items: list[dict[str, Any]],
    key: str,
    limit: Any,
    cursor: Any,
    descending: bool = False,
) -> dict[str, Any]:
    """One page of `items` in `key` order, Instantly-style.

    The cursor is the key of the last item returned; a full page always carries one, so the
    page after the last full one is empty, as happens with Instantly.
    """
    size = DEFAULT_PAGE_LIMIT if limit in (None, "") else int_param(limit, "limit")
    if not 1 <= size <= MAX_PAGE_LIMIT:
        raise ValueError(f"limit must be >= 1 and <= {MAX_PAGE_LIMIT}")
    items = sorted(items, key=lambda item: item[key], reverse=descending)
    if cursor not in (None, ""):
        cursor = str(cursor)
        if key == "id":
            uuid_param(cursor, "starting_after")
        if descending:
            items = [item for item in items if item[key] < cursor]
        else:
            items = [item for item in items if item[key] > cursor]
    chosen = items[:size]
    body: dict[str, Any] = {"items": chosen}
    if len(chosen) == size:
        body["next_starting_after"] = chosen[-1][key]
    return body


def int_param(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be integer")


def uuid_param(value: Any, name: str) -> str:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise ValueError(f'{name} must match format "uuid"')
    return value.lower()


def list_of_strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be an array of strings")
    return value


def date_range(request: Request) -> tuple[Any, Any]:
    try:
        return parse_date(request.one("start_date")), parse_date(request.one("end_date"))
    except ValueError:
        raise ValueError('querystring/start_date and end_date must match format "date"')
