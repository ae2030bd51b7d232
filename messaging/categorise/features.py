"""What the model sees of a reply: word and character n-grams of its folded text.

Addresses, links and digits are replaced by placeholders first, so the model learns "someone
gave an address" or "a date was written", never a particular name or day. Training
(scikit-learn's TfidfVectorizer with these analysers) and prediction (`model.py`, plain numpy)
share these two functions, so both sides always cut the text the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .cues import cue_features, mark_negations
from .text import fold

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_DIGITS = re.compile(r"\d")
_WORD = re.compile(r"[a-z0]+(?:'[a-z]+)?|[?!]")
SEPARATOR = "\n\x1e\n"  # between subject and body in one document


def document(subject: str, body: str) -> str:
    """The one string both analysers read."""
    return f"{subject or ''}{SEPARATOR}{body or ''}"


@lru_cache(maxsize=16)  # both analysers read the same body
def _prepare(text: str) -> str:
    text = _URL.sub(" zzurl ", text)
    text = _EMAIL.sub(" zzemail ", text)
    return _DIGITS.sub("0", fold(text))


def word_features(doc: str) -> list[str]:
    """Body words and word pairs, subject words marked apart (a reply's subject is mostly
    "Re: " and the pitch, but autoresponders write their own)."""
    subject, _, body = doc.partition(SEPARATOR)
    prepared = _prepare(body)
    words = _WORD.findall(mark_negations(prepared))
    feats = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    feats += [f"s:{word}" for word in _WORD.findall(_prepare(subject))]
    return feats + cue_features(prepared)


def char_features(doc: str) -> list[str]:
    """Character 2-5-grams inside word boundaries of the body: spelling variants, inflections
    and compounds ("Abwesenheitsnotiz", "désinscrire") share pieces."""
    _, _, body = doc.partition(SEPARATOR)
    feats = []
    for word in _WORD.findall(_prepare(body)):
        padded = f" {word} "
        size = len(padded)
        for n in range(2, 6):
            feats.extend(padded[i : i + n] for i in range(size - n + 1))
    return feats
