"""The period a page reports on: the last 7, 30 or 90 days, custom dates, or (campaign pages)
all time. Read from the query string, so a period is a link that can be shared and bookmarked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import BadRequest
from django.http import QueryDict
from django.utils import timezone

from campaigns import stats

PRESETS = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"))
ALL_TIME = ("all", "All time")
DEFAULT = "30"
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """`start`/`end` both included; both None for "all time"."""

    key: str
    start: dt.date | None
    end: dt.date | None

    @property
    def is_all_time(self) -> bool:
        return self.start is None

    @property
    def days(self) -> int | None:
        return None if self.start is None else (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.start is None:
            return "All time"
        if self.key != "custom":
            return f"Last {self.days} days"
        return f"{_day(self.start)} – {_day(self.end)}"

    @property
    def query(self) -> str:
        """The query string that reproduces this period (to keep it across links)."""
        if self.key == "custom":
            return urlencode({"start": self.start.isoformat(), "end": self.end.isoformat()})
        return urlencode({"days": self.key})


def _day(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


class PeriodForm(forms.Form):
    days = forms.ChoiceField(choices=PRESETS + (ALL_TIME,), required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, allow_all: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_all = allow_all

    def clean_start(self):
        return _in_range(self.cleaned_data.get("start"))

    def clean_end(self):
        return _in_range(self.cleaned_data.get("end"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if data.get("days") == ALL_TIME[0] and not self.allow_all:
            raise forms.ValidationError("Choose 7, 30 or 90 days, or custom dates.")
        if start or end:
            if not (start and end):
                raise forms.ValidationError("Give both a start and an end date.")
            if start > end:
                raise forms.ValidationError("The start date must come before the end date.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"A period can span at most {MAX_DAYS} days.")
        return data


def _in_range(day: dt.date | None) -> dt.date | None:
    if day is not None and not stats.EARLIEST <= day <= stats.LATEST:
        raise forms.ValidationError(
            f"Choose a day between {stats.EARLIEST} and {stats.LATEST}.", code="out_of_range"
        )
    return day


def period_from_request(
    request, *, allow_all: bool = False, today: dt.date | None = None
) -> tuple[Period, PeriodForm]:
    """The period asked for in the query string; the default (30 days) when none or invalid.

    The form is returned too, so the page can show its errors next to the date inputs. A day
    outside the calendar a report can cover (`stats.EARLIEST`..`LATEST`) is no slip of the
    hand: it answers 400.
    """
    form = PeriodForm(request.GET or None, allow_all=allow_all)
    today = today or timezone.now().date()
    key = DEFAULT
    if form.is_bound and not form.is_valid():
        if form.has_error("start", "out_of_range") or form.has_error("end", "out_of_range"):
            raise BadRequest("Period outside the days a report can cover.")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("start"):
            return Period("custom", data["start"], data["end"]), form
        key = data.get("days") or DEFAULT
    if key == ALL_TIME[0]:
        return Period(key, None, None), form
    start, end = stats.default_period(today, days=int(key))
    return Period(key, start, end), form


def preset_choices(allow_all: bool = False):
    """(key, label) of the quick period links shown above a report."""
    return PRESETS + ((ALL_TIME,) if allow_all else ())


PERIOD_KEYS = ("days", "start", "end")


def carried_query(request) -> str:
    """The period the user chose, as a query string for links to other pages ("" if none).

    The period lives in the URL (shareable, works without cookies), so each page hands it on:
    the navigation and the links between dashboard, campaigns, leads and inbox append it, and
    the leads and inbox filters keep it in hidden fields; a thread finds it in the inbox query
    it goes `back` to. Only a valid choice is carried.
    """
    params = request.GET
    if not any(params.get(key) for key in PERIOD_KEYS) and params.get("back"):
        params = QueryDict(params["back"])
    if not any(params.get(key) for key in PERIOD_KEYS):
        return ""
    form = PeriodForm(params, allow_all=True)
    if not form.is_valid():
        return ""
    data = form.cleaned_data
    if data.get("start"):
        return urlencode({"start": data["start"].isoformat(), "end": data["end"].isoformat()})
    return urlencode({"days": data["days"]}) if data.get("days") else ""


def without_period(query) -> str:
    """`query` (a QueryDict) without the period's keys: what a filter form itself narrows."""
    rest = query.copy()
    for key in PERIOD_KEYS:
        rest.pop(key, None)
    return rest.urlencode()
