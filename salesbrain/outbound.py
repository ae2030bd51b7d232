"""The one HTTP client for outbound notifications (Slack incoming webhooks, staff alerts).

Why its own module: every outbound POST needs the same discipline, a short timeout, a few
retries with backoff on network errors and 5xx, and `Retry-After` honoured on 429, and the
caller needs each try's outcome to record it (`messaging.DeliveryAttempt`). The Instantly API
has its own transport (`instantly.transport`); this one never talks to Instantly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

TIMEOUT = (3.05, 5.0)  # connect, read (seconds)
MAX_TRIES = 3
BACKOFF = 1.0  # seconds before the second try; doubled each time
MAX_RETRY_AFTER = 30.0  # a longer Retry-After is not waited for in a task


@dataclass
class Try:
    """One request: its HTTP status (0 when none came back) and what went wrong."""

    status: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Outcome:
    tries: list[Try] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.tries) and self.tries[-1].ok

    @property
    def error(self) -> str:
        return "" if self.ok or not self.tries else self.tries[-1].error


def _retry_after(response: requests.Response, default: float) -> float:
    """Seconds from a delta-seconds Retry-After, capped; the default for anything else.

    (`instantly.transport.parse_retry_after` also reads HTTP dates; this base module cannot
    import it, and that module must stay free of Django, which importing `salesbrain` loads.)
    """
    try:
        seconds = float(response.headers.get("Retry-After", default))
    except ValueError:  # an HTTP date: rare for webhooks, wait the default
        return default
    if not math.isfinite(seconds):  # "nan" or "inf" would make time.sleep() raise or hang
        return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def post_json(
    url: str,
    payload: dict,
    *,
    tries: int = MAX_TRIES,
    sleep: Callable[[float], None] | None = None,
    session: requests.Session | None = None,
) -> Outcome:
    """POST `payload` as JSON; retry network errors, 5xx and 429, never 4xx (a bad or revoked
    URL will not get better). Never raises: the outcome lists every try."""
    http = session or requests
    outcome = Outcome()
    delay = BACKOFF
    for number in range(1, tries + 1):
        wait = delay
        try:
            response = http.post(url, json=payload, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            outcome.tries.append(Try(0, f"{type(exc).__name__}: {exc}"[:500]))
        else:
            text = "" if response.ok else f"HTTP {response.status_code}: {response.text[:200]}"
            outcome.tries.append(Try(response.status_code, text))
            if response.ok or (response.status_code < 500 and response.status_code != 429):
                return outcome
            if response.status_code == 429:
                wait = _retry_after(response, delay)
        if number < tries:
            (sleep or time.sleep)(wait)
            delay *= 2
    return outcome
