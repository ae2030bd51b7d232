"""How figures read on the pages: percentages, thousands, changes against a previous period.

Kept in Python (not template filters) so the CSV export, the cards and the tables agree.
A rate of nothing sent reads "—" (not "0.0%": nothing failed, nothing happened); a change of a
rate is a difference in percentage points ("+22.5 pp"), a change of a count is relative.
"""

from __future__ import annotations

NOTHING = "—"


def number(value: int | float | None) -> str:
    return f"{int(value or 0):,}"


def percent(rate: float | None, digits: int = 1) -> str:
    """0.4213 -> "42.1%"."""
    return f"{(rate or 0) * 100:.{digits}f}%"


def rate_of_sent(rate: float | None, sent: int | None) -> str:
    """A rate per email sent: "—" when nothing was sent, else as `percent`."""
    return percent(rate) if sent else NOTHING


def change(relative: float | None) -> str:
    """+0.125 -> "+12.5%"; None (no previous figure) -> "new"."""
    if relative is None:
        return "new"
    return f"{relative * 100:+.1f}%"


def points(difference: float | None) -> str:
    """Difference of two rates: +0.225 -> "+22.5 pp"; None (a side sent nothing) -> "—"."""
    if difference is None:
        return NOTHING
    return f"{difference * 100:+.1f} pp"
