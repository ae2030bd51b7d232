"""One pagination style for every list: page numbers,
`{"count", "count_is_exact", "next", "previous", "results"}`.

Page numbers (not cursors) because frontends show "page 3 of 12". `page_size` lets a client
ask for up to 200 rows.

Counting is exact up to `API_EXACT_COUNT_LIMIT` rows (10,000 by default), and stops there:
beyond it `count` is that limit and `count_is_exact` is false ("10,000+"). A list of every
organization's messages (staff) holds millions of rows, and `COUNT(*)` over them cost more than
the page itself (165 ms of 200 at 5,000,000 messages, bench/api_latency.py --large); counting
to 10,001 costs a few milliseconds. `next` does not depend on the count: a page looks one row
ahead, so a capped list still pages to its end.
"""

from __future__ import annotations

from math import ceil

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, Window
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# PostgreSQL's OFFSET is a bigint: a page beyond it cannot exist (and must not reach SQL).
MAX_OFFSET = 2**63 - 1


def _page_number(paginator: Paginator, number, *, rows_read: int) -> int:
    """The requested page as an int, or Django's InvalidPage: not a number, below 1, or a page
    whose query (reading `rows_read` rows from its first) would pass PostgreSQL's OFFSET."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise PageNotAnInteger(paginator.error_messages["invalid_page"])
    if number < 1:
        raise EmptyPage(paginator.error_messages["min_page"])
    if (number - 1) * paginator.per_page + rows_read > MAX_OFFSET:
        raise EmptyPage(paginator.error_messages["no_results"])
    return number


class _LookaheadPage(Page):
    def __init__(self, object_list, number, paginator, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self):
        return self._has_more


class _CappedCountPaginator(Paginator):
    """Counts at most API_EXACT_COUNT_LIMIT rows; a page past a capped count is served while
    rows remain (each page reads one row ahead to know whether another follows)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = settings.API_EXACT_COUNT_LIMIT

    @cached_property
    def _counted(self) -> int:
        # COUNT(*) over `LIMIT limit + 1`, unordered: stops at the first row past the limit.
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def count(self):
        return min(self._counted, self.limit)

    @property
    def count_is_exact(self) -> bool:
        return self._counted <= self.limit

    def validate_number(self, number):
        number = _page_number(self, number, rows_read=self.per_page + 1)
        count = self.count
        if self.count_is_exact and number > max(ceil(count / self.per_page), 1):
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:  # past the end of a capped count
            raise EmptyPage(self.error_messages["no_results"])
        return _LookaheadPage(rows[: self.per_page], number, self, len(rows) > self.per_page)


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = _CappedCountPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_exact": self.page.paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["description"] = (
            "Rows in the list, counted up to API_EXACT_COUNT_LIMIT (10,000 by default)."
        )
        response["properties"] = {
            "count": properties.pop("count"),
            "count_is_exact": {
                "type": "boolean",
                "description": "False: the list holds more rows than `count` (show '10,000+').",
                "example": True,
            },
            **properties,
        }
        response["required"] = ["count", "count_is_exact", "results"]
        return response


class _WindowCountPaginator(Paginator):
    """Counts with the page: `COUNT(*) OVER ()` rides along the page's own query (exact: the
    rows are the search's candidates, at most `MESSAGE_SEARCH_CANDIDATES`)."""

    count_is_exact = True

    def page(self, number):
        number = _page_number(self, number, rows_read=self.per_page)
        bottom = (number - 1) * self.per_page
        rows = list(
            self.object_list.annotate(_window_total=Window(Count("pk")))[
                bottom : bottom + self.per_page
            ]
        )
        if rows:
            self.__dict__["count"] = rows[0]._window_total  # fills the cached_property
        return super().page(number) if not rows else self._get_page(rows, number, self)


class WindowCountPagination(StandardPagination):
    """The same pages and JSON as `StandardPagination`, in one query instead of two.

    For full-text search: there, a separate COUNT would run the text match (or the search
    function, see `messaging.search`) a second time, while the page query already visits every
    candidate to rank them (at most `MESSAGE_SEARCH_CANDIDATES`, so the count is exact).
    """

    django_paginator_class = _WindowCountPaginator
