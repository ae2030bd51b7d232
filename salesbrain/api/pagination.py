"""One pagination style for every list: page numbers, `{"count", "next", "previous", "results"}`.

Page numbers (not cursors) because every list is per organization and small enough to count,
and because frontends show "page 3 of 12". `page_size` lets a client ask for up to 200 rows.
"""

from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Window
from rest_framework.pagination import PageNumberPagination

# PostgreSQL's OFFSET is a bigint: a page beyond it cannot exist (and must not reach SQL).
MAX_OFFSET = 2**63 - 1


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class _WindowCountPaginator(Paginator):
    """Counts with the page: `COUNT(*) OVER ()` rides along the page's own query."""

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"])
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])
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
    candidate to rank them.
    """

    django_paginator_class = _WindowCountPaginator
