"""How figures read on the pages: percentages, thousands, changes against a previous period.

Kept in Python (not template filters) so the CSV export, the cards and the tables agree.
"""

from __future__ import annotations


def number(value: int | float | None) -> str:
    return f"{int(value or 0):,}"


def percent(rate: float | None, digits: int = 1) -> str:
    """0.4213 -> "42.1%"."""
    return f"{(rate or 0) * 100:.{digits}f}%"


def change(relative: float | None) -> str:
    """+0.125 -> "+12.5%"; None (no previous figure) -> "new"."""
    if relative is None:
        return "new"
    return f"{relative * 100:+.1f}%"
