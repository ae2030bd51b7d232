"""`|variant_letter`: a variant is named A, B, C… everywhere, as Instantly shows it."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def variant_letter(number) -> str:
    """1 -> "A", 2 -> "B"…; anything else is shown as it is."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        return "" if number is None else str(number)
    return chr(ord("A") + number - 1) if 1 <= number <= 26 else str(number)
