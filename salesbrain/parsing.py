"""Reading values that arrive loosely typed (provider payloads, JSON from elsewhere).

Instantly sends the same number as 1, "1", 1.0 or " 1 " depending on the endpoint; the code
that reads such a value wants an int or nothing, never a crash. One reader for all of them.
"""

from __future__ import annotations

from typing import Any


def as_int(value: Any) -> int | None:
    """A whole number as an int: accepts 1, "1", " -2 ", 1.0 and "1.0"; None for anything else
    (True/False, "", "two", 2.5, "nan", lists, None)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None
