"""Template context: the chosen period, carried by every portal link (see `views.period`)."""

from __future__ import annotations

from django.http import QueryDict

from .views.period import ALL_TIME, carried_query


def period(request):
    query = carried_query(request)
    days = QueryDict(query).get("days")
    return {
        "period_query": query,
        "period_fields": [(k, v) for k, v in QueryDict(query).items()],
        # The dashboard compares periods, so it has no "all time": its link leaves that out.
        "dashboard_period_query": "" if days == ALL_TIME[0] else query,
    }
