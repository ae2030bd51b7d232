"""The scoring arithmetic, without the database.

Every scored event adds its points, decayed by half every `half_life_days`. Because all events
decay at the same rate, a lead's whole history folds into two numbers: the decayed sum `value`
as of the time `at` of its latest event. Adding an event later (even one older than `at`)
only needs those two numbers, so the incremental score equals a full recomputation exactly.
The 0-100 score is that sum decayed to now, rounded and clamped; bounced, unsubscribed and
do-not-contact leads score 0 whatever their history.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Kinds of scored events; a reply is "reply:<category>".
OPENED, CLICKED, MEETING_BOOKED, MEETING_COMPLETED, REPLY = (
    "opened", "clicked", "meeting_booked", "meeting_completed", "reply",
)  # fmt: skip
ZERO_CATEGORIES = frozenset({"do_not_contact", "bounce"})

DEFAULT_POINTS: dict[str, int] = {
    OPENED: 2,
    CLICKED: 5,
    MEETING_BOOKED: 40,
    MEETING_COMPLETED: 20,
    "reply:interested": 30,
    "reply:meeting_request": 40,
    "reply:information_request": 20,
    "reply:not_interested": -25,
    "reply:wrong_person": -10,
    "reply:out_of_office": 0,
    "reply:auto_reply": 0,
    "reply:": 10,  # a reply not (yet) categorised
}
DEFAULT_CAPS: dict[str, int] = {OPENED: 5, CLICKED: 5}  # counted per lead, first ones only
DEFAULT_HALF_LIFE_DAYS = 14.0

LABELS = {
    OPENED: "opened",
    CLICKED: "clicked",
    MEETING_BOOKED: "meeting booked",
    MEETING_COMPLETED: "meeting held",
    "reply:": "replied",
}


@dataclass(frozen=True)
class ScoringRules:
    """An organization's points, caps and half-life (defaults when it set none)."""

    points: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    caps: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS

    @property
    def key(self) -> tuple:
        """Equal for equal rules (the mappings make the dataclass itself unhashable)."""
        return (tuple(sorted(self.points.items())), tuple(sorted(self.caps.items())),
                self.half_life_days)  # fmt: skip

    def points_for(self, kind: str) -> int:
        if kind in self.points:
            return self.points[kind]
        return self.points.get("reply:", 0) if kind.startswith("reply:") else 0

    def decay(self, seconds: float) -> float:
        """The share of a point left after `seconds` (1.0 for no time, 0.5 per half-life)."""
        return 0.5 ** (seconds / (self.half_life_days * 86400.0))


@dataclass(frozen=True)
class ScoreEvent:
    kind: str
    at: dt.datetime


@dataclass
class ScoreState:
    """What is stored per lead: the decayed sum at `at`, and how many capped events counted."""

    value: float = 0.0
    at: dt.datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, event: ScoreEvent, rules: ScoringRules) -> bool:
        """Fold one event in (in the order events are recorded); False if a cap skipped it."""
        cap = rules.caps.get(event.kind)
        if cap is not None:
            if self.counts.get(event.kind, 0) >= cap:
                return False
            self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
        points = rules.points_for(event.kind)
        if self.at is None:
            self.value, self.at = float(points), event.at
        elif event.at >= self.at:
            self.value = self.value * rules.decay((event.at - self.at).total_seconds()) + points
            self.at = event.at
        else:  # an older event arriving late: decayed to the state's time
            self.value += points * rules.decay((self.at - event.at).total_seconds())
        return True

    def score(self, rules: ScoringRules, now: dt.datetime, *, zeroed: bool = False) -> int:
        """0-100 as of `now`."""
        if zeroed or self.at is None:
            return 0
        return clamp(self.value * rules.decay(max(0.0, (now - self.at).total_seconds())))


def clamp(value: float) -> int:
    """Round half up, then keep within 0-100 (PostgreSQL's round() does the same)."""
    return max(0, min(100, math.floor(value + 0.5)))


def fold(events: Iterable[ScoreEvent], rules: ScoringRules) -> ScoreState:
    """A full recomputation: every event, in recording order."""
    state = ScoreState()
    for event in events:
        state.add(event, rules)
    return state


@dataclass(frozen=True)
class Contribution:
    """One line of a lead's explanation: "+27 replied interested 2 days ago"."""

    points_now: float
    label: str
    at: dt.datetime

    def describe(self, now: dt.datetime) -> str:
        return f"{self.points_now:+.0f} {self.label} {ago(now - self.at)}"


def explain(
    events: Iterable[ScoreEvent], rules: ScoringRules, now: dt.datetime
) -> list[Contribution]:
    """Each counted event's points as of now, largest first."""
    counts: dict[str, int] = {}
    lines = []
    for event in events:
        cap = rules.caps.get(event.kind)
        if cap is not None:
            if counts.get(event.kind, 0) >= cap:
                continue
            counts[event.kind] = counts.get(event.kind, 0) + 1
        points = rules.points_for(event.kind)
        if points:
            seconds = max(0.0, (now - event.at).total_seconds())
            lines.append(Contribution(points * rules.decay(seconds), label(event.kind), event.at))
    return sorted(lines, key=lambda c: -abs(c.points_now))


def label(kind: str) -> str:
    if kind.startswith("reply:") and kind != "reply:":
        return "replied " + kind.split(":", 1)[1].replace("_", " ")
    return LABELS.get(kind, kind.replace("_", " "))


def ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return "just now" if seconds < 120 else f"{seconds // 60} minutes ago"
    if seconds < 86400:
        hours = seconds // 3600
        return "1 hour ago" if hours == 1 else f"{hours} hours ago"
    days = seconds // 86400
    return "1 day ago" if days == 1 else f"{days} days ago"
