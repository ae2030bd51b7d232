"""Lead scoring arithmetic: exact scores for a scripted history, decay, caps, zeroing, and the
incremental score equal to a full recomputation whatever order events arrive in."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from messaging.scoring.engine import ScoreEvent, ScoreState, ScoringRules, explain, fold

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DEFAULTS = ScoringRules()


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


# Two opens, a click, an interested reply, a meeting booked.
HISTORY = [
    ScoreEvent("opened", day(0)),
    ScoreEvent("opened", day(0)),
    ScoreEvent("clicked", day(1)),
    ScoreEvent("reply:interested", day(3)),
    ScoreEvent("meeting_booked", day(5)),
]


def test_scripted_history_under_the_default_weights():
    state = fold(HISTORY, DEFAULTS)
    # ((2+2)·½^(1/14) + 5)·½^(2/14) + 30)·½^(2/14) + 40 = 74.396
    assert state.value == pytest.approx(74.396223, abs=1e-6)
    assert state.score(DEFAULTS, day(5)) == 74


def test_the_score_halves_every_half_life():
    state = fold(HISTORY, DEFAULTS)
    assert state.score(DEFAULTS, day(5 + 14)) == 37
    assert state.score(DEFAULTS, day(5 + 28)) == 19
    assert state.score(DEFAULTS, day(5 + 365)) == 0


def test_an_organizations_points_and_half_life_apply():
    rules = ScoringRules(points={"opened": 10, "clicked": 0, "reply:interested": 50},
                         caps={"opened": 1}, half_life_days=7)  # fmt: skip
    state = fold(HISTORY, rules)
    # 10 (one open counted) ·½^(3/7) + 50, then ·½^(2/7) at the meeting (0 points: not set)
    assert state.value == pytest.approx((10 * 0.5 ** (3 / 7) + 50) * 0.5 ** (2 / 7), abs=1e-9)
    assert state.score(rules, day(5)) == 47


def test_opens_beyond_the_cap_do_not_count():
    state = fold([ScoreEvent("opened", day(0))] * 9, DEFAULTS)
    assert state.counts == {"opened": 5}
    assert state.score(DEFAULTS, day(0)) == 10


def test_negative_replies_and_zeroed_leads():
    state = fold([*HISTORY[:3], ScoreEvent("reply:not_interested", day(2))], DEFAULTS)
    assert state.score(DEFAULTS, day(2)) == 0  # never below 0
    assert fold(HISTORY, DEFAULTS).score(DEFAULTS, day(5), zeroed=True) == 0


def test_scores_never_exceed_100():
    many = [ScoreEvent("meeting_booked", day(0))] * 4
    assert fold(many, DEFAULTS).score(DEFAULTS, day(0)) == 100


@pytest.mark.parametrize("seed", range(20))
def test_incremental_equals_full_recomputation_in_any_arrival_order(seed):
    """Events are folded in as they are recorded, older ones late; a recomputation folds the
    same recorded sequence at once. Both give the same state and score."""
    rng = random.Random(seed)
    kinds = ["opened", "clicked", "reply:interested", "reply:not_interested",
             "reply:information_request", "meeting_booked", "reply:"]  # fmt: skip
    recorded = [ScoreEvent(rng.choice(kinds), day(rng.uniform(0, 60))) for _ in range(30)]
    incremental = ScoreState()
    for event in recorded:  # one at a time, as batches arrive
        incremental.add(event, DEFAULTS)
    full = fold(recorded, DEFAULTS)
    assert incremental.value == pytest.approx(full.value, rel=1e-12, abs=1e-12)
    assert incremental.at == full.at
    assert incremental.score(DEFAULTS, day(61)) == full.score(DEFAULTS, day(61))


def test_the_explanation_lists_each_contribution_as_of_now():
    lines = [c.describe(day(7)) for c in explain(HISTORY, DEFAULTS, day(7))]
    assert lines == [
        "+36 meeting booked 2 days ago",
        "+25 replied interested 4 days ago",
        "+4 clicked 6 days ago",
        "+1 opened 7 days ago",
        "+1 opened 7 days ago",
    ]
