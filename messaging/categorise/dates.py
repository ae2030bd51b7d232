"""Find the date an absent person returns, in the forms people and mail clients write it.

"back on 2 Dec", "bis zum 02.12.", "de retour le 2 décembre", "hasta el 2 de diciembre",
"returning December 2nd", "2024-12-02", "lundi 2/12", "back Monday". A date without a year is
the next one on or after the reference date (the day the reply arrived), with a fortnight's
grace for a stale notice. Numeric dates are day first (the UK and the three continental
languages), unless the first number cannot be a month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .text import fold

_MONTHS = {
    1: "january jan januar jaenner janner janvier janv enero ene",
    2: "february feb februar fevrier fevr fev febrero",
    3: "march mar marz maerz mars marzo",
    4: "april apr avril avr abril abr",
    5: "may mai mayo",
    6: "june jun juni juin junio",
    7: "july jul juli juillet juil julio",
    8: "august aug aout agosto ago",
    9: "september sept sep septembre septiembre setiembre set",
    10: "october oct oktober okt octobre octubre",
    11: "november nov novembre noviembre",
    12: "december dec dezember dez decembre diciembre dic",
}
_MONTH_BY_NAME = {name: month for month, names in _MONTHS.items() for name in names.split()}
_WEEKDAYS = {
    0: "monday montag lundi lunes",
    1: "tuesday dienstag mardi martes",
    2: "wednesday mittwoch mercredi miercoles",
    3: "thursday donnerstag jeudi jueves",
    4: "friday freitag vendredi viernes",
    5: "saturday samstag sonnabend samedi sabado",
    6: "sunday sonntag dimanche domingo",
}
_WEEKDAY_BY_NAME = {name: day for day, names in _WEEKDAYS.items() for name in names.split()}

_MONTH = "(?P<month>" + "|".join(sorted(_MONTH_BY_NAME, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>\d{4})"
_DAY = r"(?P<day>[0-3]?\d)"
_PATTERNS = [
    # 2024-12-02
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
    # 2 Dec, 2nd of December, 2. Dezember 2024, 1er décembre, 2 de diciembre de 2024
    re.compile(
        rf"\b{_DAY}(?:st|nd|rd|th|er|eme|o|º|°)?\.?\s*(?:of\s+|de\s+|-)?{_MONTH}"
        rf"(?:[\s,-]*(?:de\s+|del\s+)?{_YEAR})?(?![a-z])"
    ),
    # December 2nd, Dec. 2, 2024, December the 2nd
    re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY}(?:st|nd|rd|th)?\b(?:,?\s*{_YEAR})?"),
    # 02.12. / 2.12.2024 / 02.12.24
    re.compile(r"\b(?P<day>[0-3]?\d)\.(?P<month>[01]?\d)\.(?P<year>\d{4}|\d{2}(?!\d))?"),
    # 02/12, 2/12/2024, 02-12-2024
    re.compile(r"\b(?P<day>[0-3]?\d)[/-](?P<month>[01]?\d)(?:[/-](?P<year>\d{4}|\d{2}))?\b"),
]
_WEEKDAY = re.compile(r"\b(?P<weekday>" + "|".join(sorted(_WEEKDAY_BY_NAME, key=len)) + r")\b")

# Words that put a date on the return side (strong) or the end of the absence (weaker).
_RETURN_KEYS = (
    r"back|return|returning|returns|zuruck|wieder|ab\s+dem|ab|retour|reviens|rentre|"
    r"reprendrai|reprise|regreso|regresare|regresar|vuelta|volvere|vuelvo|reincorporo|"
    r"reincorporare|disponible|available|erreichbar|a\s+partir\s+du|a\s+partir\s+del"
)
_RETURN_BEFORE = re.compile(rf"\b(?:{_RETURN_KEYS})\W+(?:\w+\W+){{0,6}}$")
_RETURN_AFTER = re.compile(rf"^\W*(?:\w+\W+){{0,4}}(?:{_RETURN_KEYS})\b")
_UNTIL_BEFORE = re.compile(
    r"\b(?:until|till|til|through|thru|bis|jusqu'au|jusqu'a|jusqu au|hasta|au|inclusive)"
    r"\W+(?:\w+\W+){0,4}$"
)
# A fortnight of grace: a notice left on a little past its date still means that date.
_STALE_GRACE = dt.timedelta(days=14)


@dataclass(frozen=True, order=True)
class _Candidate:
    rank: int  # 2: after a return word, 1: after "until", 0: anywhere
    date: dt.date
    position: int


def find_return_date(text: str, reference: dt.date) -> dt.date | None:
    """The return date the text gives, or None."""
    folded = fold(text)
    candidates: list[_Candidate] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            date = _resolve(match, reference)
            if date is None:
                continue
            taken.append(match.span())
            candidates.append(
                _Candidate(_rank(folded, match.start(), match.end()), date, match.start())
            )
    if not candidates:
        for match in _WEEKDAY.finditer(folded):
            rank = _rank(folded, match.start(), match.end())
            if rank:
                weekday = _WEEKDAY_BY_NAME[match.group("weekday")]
                ahead = (weekday - reference.weekday() - 1) % 7 + 1
                candidates.append(_Candidate(rank, reference + dt.timedelta(days=ahead), 0))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.rank, c.date)).date


def _rank(folded: str, start: int, end: int) -> int:
    before, after = folded[max(0, start - 60) : start], folded[end : end + 40]
    if _RETURN_BEFORE.search(before) or _RETURN_AFTER.search(after):
        return 2
    if _UNTIL_BEFORE.search(before):
        return 1
    return 0


def _resolve(match: re.Match, reference: dt.date) -> dt.date | None:
    raw_month = match.group("month")
    month = int(raw_month) if raw_month.isdigit() else _MONTH_BY_NAME.get(raw_month)
    day = int(match.group("day"))
    year_text = match.group("year")
    if month is None:
        return None
    if month > 12 and day <= 12:  # 12/25: the US order, the only reading that is a date
        day, month = month, day
    if year_text:
        year = int(year_text)
        year = year + 2000 if year < 100 else year
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    for year in range(reference.year, reference.year + 5):
        try:
            date = dt.date(year, month, day)
        except ValueError:
            continue  # 29 February in a common year
        if date >= reference - _STALE_GRACE:
            return date
    return None
