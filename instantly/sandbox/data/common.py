"""What every part of the generated workspace shares: the time anchor, the activity record,
seeded ids, the first and last names people get, and small text helpers.

Times are generated against a fixed anchor, ids are derived from those times (time-ordered
UUIDv7, like Instantly's), and a `Clock` shifts timestamps to the workspace's `now` when they
are written out: moving `now` moves every timestamp but keeps every id.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

ANCHOR = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 30

FIRST_NAMES = tuple(
    (
        "Ada Ben Carla Dmitri Elena Farid Grace Hugo Ines Jonas Keiko Liam Maya Nils Olivia "
        "Pedro Quinn Rosa Samir Tessa Umar Vera Wei Ximena Yusuf Zoe Amara Bruno Chloe Diego"
    ).split()
)
LAST_NAMES = tuple(
    (
        "Adler Baker Castro Dubois Eriksen Fischer Garcia Hansen Ito Jensen Kowalski Lopez "
        "Moreau Novak Okafor Patel Quint Rossi Schmidt Tanaka Usman Varga Weber Xu Young Zhang "
        "Brennan Costa"
    ).split()
)


class NotFound(LookupError):
    """An id that names nothing in the workspace (the server answers 404)."""


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing that happened to a lead; analytics, Unibox and webhooks all read these.

    `kind` is sent, opened, clicked, replied, auto_replied, bounced, unsubscribed, interest
    (`value` = the new lt_interest_status), completed (sequence finished without a reply) or
    skipped. `step` and `variant` are 1-based; `at` is already shifted to the workspace's now.
    """

    kind: str
    at: datetime
    lead_id: str
    step: int
    variant: int
    eaccount: str
    email_id: str | None = None
    value: int | None = None


@dataclass
class CampaignData:
    """What a campaign holds once built: leads by id and activity in time order.

    `stories` keeps every generated lead with its Unibox thread id (even after a delete), and
    `emails` is built from the activity on first read: listing leads should not pay for it.
    """

    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: list[Activity] = field(default_factory=list)
    stories: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    emails: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Clock:
    """Moves anchor-relative times to the workspace's now (`shift` = now - ANCHOR)."""

    shift: timedelta

    def ts(self, at: datetime) -> str:
        """An anchor-relative time as Instantly writes timestamps (ISO 8601, ms, Z)."""
        return (at + self.shift).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- ids -------------------------------------------------------------------------------------


def _format_uuid(value: int) -> str:
    # Same text as str(uuid.UUID(int=value)), several times cheaper on hot generation paths.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7(rng: random.Random, at: datetime) -> str:
    """A UUIDv7 whose time part is `at`: sorting ids sorts by creation, as in Instantly."""
    millis = int(at.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    return _format_uuid(value | (0b10 << 62) | rng.getrandbits(62))


def uuid4(rng: random.Random) -> str:
    value = rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)
    return _format_uuid(value | (0x4000 << 64) | (0x8000 << 48))


def cover(rng: random.Random, index: int, values: tuple, weights: tuple) -> Any:
    """values[index] while index is small (so every code shows up), then a weighted draw."""
    if index < len(values):
        return values[index]
    return rng.choices(values, weights)[0]


# --- text ------------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def html_of(text: str) -> str:
    """Plain text as Instantly's editor writes it: one <div> per line."""
    return "".join(
        f"<div>{line}</div>" if line else "<div><br /></div>" for line in text.split("\n")
    )


def text_of(html: str) -> str:
    """The plain-text part of a body written by `html_of` (one <div> per line)."""
    lines = re.findall(r"<div>(.*?)</div>", html)
    return "\n".join("" if line == "<br />" else re.sub(r"<[^>]+>", "", line) for line in lines)


def render(template: str, variables: Mapping[str, str]) -> str:
    for name, value in variables.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def parse_date(value: str | date | None) -> date | None:
    """A YYYY-MM-DD query value (or a date) as a date; ValueError on anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])
