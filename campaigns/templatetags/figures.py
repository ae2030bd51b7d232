"""`|number`: a count in a template reads like the portal's other figures (1,234,567): the
same `campaigns.views.formatting.number` the views and the CSV export use."""

from __future__ import annotations

from django import template

from campaigns.views.formatting import number as _number

register = template.Library()


@register.filter
def number(value) -> str:
    return _number(value)
