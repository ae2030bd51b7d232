"""Full-text search over messages, on the generated `Message.search_vector` (GIN-indexed).

The query uses PostgreSQL's web-search syntax (`"exact phrase"`, `or`, `-excluded`). That
parser forgives bad syntax but has limits (33 `-` in a row overflow its operator stack), so
input is checked with `parse_error()` before it goes into a query. Results are ranked (subject
weighs more than body) and carry a highlighted snippet. PostgreSQL's `ts_headline` marks
matches but does not escape the text around them, and an email body is untrusted; so it marks
with control characters, and `render_headline` escapes the text before turning those into
`<mark>` tags.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils.html import escape

CONFIG = "english"
_START, _STOP = "\x02", "\x03"
# SQLSTATE classes of "this input cannot be a query": data exception, syntax, program limit,
# and internal error (the parser's "tsquery stack too small" is a bare elog, XX000).
_INPUT_ERROR_CLASSES = ("22", "42", "54", "XX")


def search_query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=CONFIG)


def parse_error(text: str) -> str | None:
    """Why PostgreSQL cannot turn `text` into a search query, or None when it can.

    Asked of PostgreSQL itself (in a savepoint, so the request's transaction survives): only
    its parser knows its limits. One short round trip, only for searches.
    """
    if "\x00" in text:
        return "Null characters are not allowed."  # psycopg refuses to send them at all
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT websearch_to_tsquery(%s::regconfig, %s)", [CONFIG, text])
    except DatabaseError as exc:
        sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
        if not sqlstate.startswith(_INPUT_ERROR_CLASSES):
            raise
        return "PostgreSQL cannot search for this; remove repeated operators such as '-'."
    return None


def search_messages(messages: QuerySet, text: str) -> QuerySet:
    """`messages` matching `text`, annotated with `rank` and `headline_raw` (see module doc).

    The headline is costly; PostgreSQL computes it after ORDER BY ... LIMIT, so only for the
    page of results, not for every match.
    """
    query = search_query(text)
    return messages.filter(search_vector=query).annotate(
        rank=SearchRank(F("search_vector"), query),
        headline_raw=SearchHeadline(
            Concat("subject", Value("\n"), "body_text", output_field=TextField()),
            query,
            config=CONFIG,
            start_sel=_START,
            stop_sel=_STOP,
            max_words=35,
            min_words=12,
            max_fragments=2,
            fragment_delimiter=" … ",
        ),
    )


def render_headline(raw: str | None) -> str:
    """The snippet as safe HTML: escaped text, matches in `<mark>`."""
    if not raw:
        return ""
    return escape(raw).replace(_START, "<mark>").replace(_STOP, "</mark>")
