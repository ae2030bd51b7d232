"""Text normalisation shared by the cleaner, the rules, the date finder and the features."""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_FOLD_TABLE = str.maketrans({"’": "'", "ß": "ss"})


def normalise(text: str) -> str:
    """One newline style, no zero-width characters, no non-breaking spaces."""
    text = _ZERO_WIDTH.sub("", text or "")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")


def fold(text: str) -> str:
    """Lower case without accents, one apostrophe: "Décembre" and "decembre" read the same."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return _COMBINING.sub("", unicodedata.normalize("NFKD", lowered)).translate(_FOLD_TABLE)
