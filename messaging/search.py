"""Full-text search over messages, on the generated `Message.search_vector` (GIN-indexed).

The query uses PostgreSQL's web-search syntax (`"exact phrase"`, `or`, `-excluded`), which
never raises on user input. Results are ranked (subject weighs more than body) and carry a
highlighted snippet. PostgreSQL's `ts_headline` marks matches but does not escape the text
around them, and an email body is untrusted; so it marks with control characters, and
`render_headline` escapes the text before turning those into `<mark>` tags.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils.html import escape

CONFIG = "english"
_START, _STOP = "\x02", "\x03"


def search_query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=CONFIG)


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
