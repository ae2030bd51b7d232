"""Filter pieces shared by every app's filtersets.

`DateTimeAfter` / `DateTimeBefore` give every date range the same spelling (`<field>_after`,
`<field>_before`, ISO 8601), pass PostgreSQL UTC only, and refuse datetimes that do not exist in
UTC (year 1 with a positive offset): either would otherwise surface as a 500.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class SafeIsoDateTimeField(IsoDateTimeField):
    """Converted to UTC here: PostgreSQL refuses offsets past ±15:59 that ISO 8601 allows."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Date/time out of range.", code="invalid")


class SafeIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SafeIsoDateTimeField


def DateTimeAfter(field_name: str) -> SafeIsoDateTimeFilter:  # noqa: N802 - reads like a class
    """Rows with `field_name` at or after the given ISO 8601 datetime."""
    return SafeIsoDateTimeFilter(field_name=field_name, lookup_expr="gte")


def DateTimeBefore(field_name: str) -> SafeIsoDateTimeFilter:  # noqa: N802
    """Rows with `field_name` strictly before the given ISO 8601 datetime."""
    return SafeIsoDateTimeFilter(field_name=field_name, lookup_expr="lt")
