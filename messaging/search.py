"""Full-text search over messages, on the generated `Message.search_vector` (GIN-indexed).

The query uses PostgreSQL's web-search syntax (`"exact phrase"`, `or`, `-excluded`). That
parser forgives bad syntax but has limits (33 `-` in a row overflow its operator stack), so
input is checked with `parse_error()` before it goes into a query. Results are ranked (subject
weighs more than body) and carry a highlighted snippet. PostgreSQL's `ts_headline` marks
matches but does not escape the text around them, and an email body is untrusted; so it marks
with control characters, and `render_headline` escapes the text before turning those into
`<mark>` tags.

**Under row-level security the GIN index is unusable from an ordinary query** (`@@` is not
leakproof, so PostgreSQL filters by the policies first and matches every row it kept). So the
matching runs in `sb_search_message_ids()` (migrations 0009 and 0012: the newest messages
first, then the index one week of the organization at a time), a SECURITY DEFINER function that
reads the transaction's verified scope itself and may use the indexes; it returns the ids of the
newest `MESSAGE_SEARCH_CANDIDATES` (a setting) matches, and only those are ranked and filtered
here. A word found in most messages thus costs a few hundred rows, not the whole organization;
the price is that a search (and its `count`) covers the newest matches, not every match of years
of mail. A search narrowed to one campaign, thread or lead matches in SQL directly instead
(`indexed=False`): RLS then reads only that campaign's messages, through its own index, and
every match counts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
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


def candidate_ids(text: str, *, only_org=None, limit: int | None = None) -> RawSQL:
    """The ids of the newest messages matching `text` in the transaction's scope (a subquery).

    The scope comes from the database session, never from here: `only_org` can only narrow it
    (staff searching one organization); a customer naming another organization gets nothing.
    """
    limit = limit or settings.MESSAGE_SEARCH_CANDIDATES
    return RawSQL(
        "SELECT public.sb_search_message_ids(websearch_to_tsquery(%s::regconfig, %s), %s, %s)",
        [CONFIG, text, limit, str(only_org) if only_org else None],
    )


def search_messages(
    messages: QuerySet, text: str, *, indexed: bool = True, only_org=None
) -> QuerySet:
    """`messages` matching `text`, annotated with `rank` and `headline_raw` (see module doc).

    `indexed` (the default) matches through the index, among the newest matches; `False`
    matches in the query itself, for a queryset already narrowed to a few thousand rows.
    The headline is costly; PostgreSQL computes it after ORDER BY ... LIMIT, so only for the
    page of results, not for every match.
    """
    query = search_query(text)
    if indexed:
        messages = messages.filter(pk__in=candidate_ids(text, only_org=only_org))
    else:
        messages = messages.filter(search_vector=query)
    return messages.annotate(
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
