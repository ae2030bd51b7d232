"""Text from Instantly made storable: valid UTF-8, no NUL characters.

JSON may carry a lone UTF-16 surrogate (`"\\ud800"`, half of an emoji cut in two) that Python
decodes but cannot encode as UTF-8, and `"\\u0000"`, which PostgreSQL's jsonb and text refuse.
Either one would fail the delivery on every retry until Instantly disables the subscription.
"""

from __future__ import annotations

import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """Lone surrogates replaced by U+FFFD, NUL characters dropped."""
    return _LONE_SURROGATE.sub(REPLACEMENT, text).replace("\x00", "")


def clean_json(value: Any) -> Any:
    """`value` (decoded JSON) with every string, keys included, made storable."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    if isinstance(value, dict):
        return {clean_json(key): clean_json(item) for key, item in value.items()}
    return value
