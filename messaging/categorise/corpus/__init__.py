"""The labelled reply corpus: reading it (here) and generating it (`generate.py`).

Each line of `data/corpus.jsonl` is one reply: id, language, category, split (`train` or
`heldout`), subject, text, the reference date it was "received", the expected `returns_on` and
referral where the text gives them, and `template`, the hand-written phrasing it was built on.
The split is by phrasing: a held-out reply uses wording that no training reply uses.
"""

from __future__ import annotations

import json
from pathlib import Path


def load_corpus(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
