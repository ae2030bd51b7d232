"""Lead scores in the database: incremental on each batch, a decay pass, a full recomputation.

- `apply_events`: webhook processing (which has locked the batch's leads) folds the batch's
  scored events into each lead's stored (value, time, counts) and writes its 0-100 score.
- `decay_scores`: the periodic pass re-reads every score as of now; one UPDATE per half-life.
- `recompute_scores`: rebuilds (value, time, counts) from the events themselves, in SQL,
  after a correction, a change of points, or to check the incremental state.
- `lead_events`: one lead's scored events, for its explanation.

Scored events are opens and clicks (`campaigns.Activity`), meetings booked or held (interest
changes) and human replies by category (`messaging.Message`). Caps count the first opens and
clicks in recording order (the activity id): both paths agree on which ones count.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.models import InterestStatus, LeadStatus
from salesbrain.bulk import columns, execute

from ..categorise.categories import CATEGORIES
from ..models import ReplySettings
from . import engine
from .engine import (
    CLICKED,
    DEFAULT_CAPS,
    DEFAULT_POINTS,
    MEETING_BOOKED,
    MEETING_COMPLETED,
    OPENED,
    ScoreEvent,
    ScoreState,
    ScoringRules,
)

ZEROED_STATUSES = (LeadStatus.BOUNCED.value, LeadStatus.UNSUBSCRIBED.value)
MEETING_KINDS = {InterestStatus.MEETING_BOOKED: MEETING_BOOKED,
                 InterestStatus.MEETING_COMPLETED: MEETING_COMPLETED}  # fmt: skip
EVENT_KINDS = (OPENED, CLICKED, MEETING_BOOKED, MEETING_COMPLETED,
               *(f"reply:{c}" for c in ("", *CATEGORIES)))  # fmt: skip


@dataclass(frozen=True)
class LeadEvent:
    """A scored event of one lead, as processing hands it over."""

    lead_id: int
    kind: str
    at: dt.datetime


def rules_from(settings: ReplySettings) -> ScoringRules:
    points = dict(DEFAULT_POINTS)
    points.update({k: int(v) for k, v in (settings.score_points or {}).items() if k in points})
    return ScoringRules(points=points, caps=dict(DEFAULT_CAPS),
                        half_life_days=float(settings.score_half_life_days))  # fmt: skip


def rules_for(organization_ids: Iterable[Any]) -> dict[Any, ScoringRules]:
    """Each organization's rules (defaults for those without settings, and for NULL)."""
    wanted = {org for org in organization_ids if org is not None}
    found = {
        s.organization_id: rules_from(s)
        for s in ReplySettings.objects.unscoped().filter(organization_id__in=wanted)
    }
    default = ScoringRules()
    return defaultdict(lambda: default, found)


# --- incremental ------------------------------------------------------------------------------


def apply_events(
    events: Sequence[LeadEvent], now: dt.datetime, *, refresh: Iterable[int] = ()
) -> None:
    """Fold events (in the order given: recording order) into their leads' scores, and
    re-read the scores of the `refresh` leads (their status may have changed). The leads must
    be locked by the caller's transaction."""
    lead_ids = sorted({e.lead_id for e in events} | set(refresh))
    if not lead_ids:
        return
    rows = execute(
        "SELECT id, organization_id, score_value, score_at, score_counts, status, "
        "do_not_contact, score FROM campaigns_lead WHERE id = ANY(%b::bigint[])",
        [lead_ids],
    )
    rules = rules_for(row[1] for row in rows)
    by_lead: dict[int, list[LeadEvent]] = defaultdict(list)
    for event in events:
        by_lead[event.lead_id].append(event)
    updates = []
    for lead_id, org, value, at, counts, status, dnc, old_score in rows:
        rule = rules[org]
        if isinstance(counts, str):  # Django's connection reads jsonb as text
            counts = json.loads(counts)
        state = ScoreState(value or 0.0, at, dict(counts or {}))
        for event in by_lead.get(lead_id, ()):
            state.add(ScoreEvent(event.kind, event.at), rule)
        zeroed = status in ZEROED_STATUSES or dnc
        score = state.score(rule, now, zeroed=zeroed)
        if lead_id in by_lead or score != old_score:  # most leads of a batch only got sends
            updates.append((lead_id, state.value, state.at, json.dumps(state.counts), score))
    if not updates:
        return
    execute(
        "UPDATE campaigns_lead l SET score_value = v.value, score_at = v.at, "
        "score_counts = v.counts::jsonb, score = v.score "
        "FROM unnest(%b::bigint[], %b::float8[], %b::timestamptz[], %b::text[], %b::int[]) "
        "AS v(id, value, at, counts, score) WHERE l.id = v.id AND l.id = ANY(%b::bigint[])",
        [*columns(updates, 5), [u[0] for u in updates]],
    )


# --- decay and recomputation ------------------------------------------------------------------

_SCORE_SQL = (
    "CASE WHEN {l}.status = ANY(%(zeroed)b::text[]) OR {l}.do_not_contact "
    "OR {v} IS NULL OR {at} IS NULL THEN 0 "
    "ELSE LEAST(100, GREATEST(0, floor({v} * power(0.5, GREATEST(0, "
    "extract(epoch FROM (%(now)b::timestamptz - {at}))) / {half_life}) + 0.5)))::int END"
)


def _groups() -> list[tuple[ScoringRules, list[Any] | None]]:
    """(rules, organizations) per distinct rules; None = everyone else (the defaults)."""
    custom = [(s.organization_id, rules_from(s)) for s in ReplySettings.objects.unscoped().all()]
    custom = [(org, rule) for org, rule in custom if rule.key != ScoringRules().key]
    groups: dict[tuple, tuple[ScoringRules, list[Any]]] = {}
    for org, rule in custom:
        groups.setdefault(rule.key, (rule, []))[1].append(org)
    return [*groups.values(), (ScoringRules(), None)]


def _org_filter(alias: str, orgs: list[Any] | None, custom: list[Any]) -> str:
    if orgs is not None:
        return f"{alias}.organization_id = ANY(%(orgs)b::uuid[])"
    column = f"{alias}.organization_id"
    return f"({column} IS NULL OR NOT {column} = ANY(%(custom)b::uuid[]))"


def decay_scores(now: dt.datetime) -> int:
    """Re-read every lead's score as of `now`; answer how many changed."""
    changed = 0
    groups = _groups()
    custom = [org for _, orgs in groups if orgs for org in orgs]
    for rule, orgs in groups:
        score = _SCORE_SQL.format(
            l="l", v="l.score_value", at="l.score_at", half_life="%(half_life)b::float8"
        )
        rows = execute(
            f"UPDATE campaigns_lead l SET score = {score} "  # noqa: S608 - constant SQL pieces
            f"WHERE {_org_filter('l', orgs, custom)} AND l.score IS DISTINCT FROM {score} "
            "RETURNING l.id",
            _params(rule, now, orgs, custom),
        )
        changed += len(rows)
    return changed


def recompute_scores(now: dt.datetime, *, lead_ids: Sequence[int] | None = None) -> int:
    """Rebuild every (or the given) lead's score state from its events; answer how many
    leads changed.

    One statement: the events are read once, each priced by its organization's points (the
    defaults where it has none), capped with a window function and summed per lead; leads
    whose state is already right are not rewritten. Row-level security's filters make the
    planner expect a row or two everywhere, which for the whole table would pick nested loops
    over hundreds of thousands of rows; a full recomputation turns them off (and sorts in
    memory) for its statement."""
    custom = {s.organization_id: rules_from(s) for s in ReplySettings.objects.unscoped().all()}
    default = ScoringRules()
    kinds = list(EVENT_KINDS)
    prices = [(None, default), *custom.items()]
    params = {
        "p_org": [org for org, _ in prices for _ in kinds],
        "p_kind": [kind for _ in prices for kind in kinds],
        "p_pts": [float(rule.points_for(kind)) for _, rule in prices for kind in kinds],
        "p_cap": [rule.caps.get(kind) for _, rule in prices for kind in kinds],
        "h_org": [org for org, _ in prices],
        "h_secs": [rule.half_life_days * 86400.0 for _, rule in prices],
        "zeroed": list(ZEROED_STATUSES),
        "now": now,
        "leads": sorted(set(lead_ids or ())),
    }
    only = lead_ids is not None
    new_score = _SCORE_SQL.format(l="l", v="f.value", at="f.t0", half_life="f.secs")
    sql = (
        "WITH prices(org, kind, pts, cap) AS (SELECT * FROM unnest(%(p_org)b::uuid[], "  # noqa: S608
        "  %(p_kind)b::text[], %(p_pts)b::float8[], %(p_cap)b::int[])), "
        "lives(org, secs) AS (SELECT * FROM unnest(%(h_org)b::uuid[], %(h_secs)b::float8[])), "
        f"ev AS ({_events_sql(only)}), "
        "priced AS (SELECT ev.lead_id, ev.kind, ev.at, coalesce(c.pts, d.pts) AS pts, "
        "  coalesce(c.cap, d.cap) AS cap, coalesce(hc.secs, hd.secs) AS secs, "
        "  row_number() OVER (PARTITION BY ev.lead_id, ev.kind ORDER BY ev.seq) AS n "
        "  FROM ev JOIN prices d ON d.org IS NULL AND d.kind = ev.kind "
        "  LEFT JOIN prices c ON c.org = ev.org AND c.kind = ev.kind "
        "  LEFT JOIN lives hc ON hc.org = ev.org "
        "  JOIN lives hd ON hd.org IS NULL), "
        # Σ p·½^((t0-t)/h) = ½^((t0-now)/h) · Σ p·½^((now-t)/h): one GROUP BY, no second
        # window to find each lead's t0 first.
        "agg AS (SELECT lead_id, max(at) AS t0, max(secs) AS secs, "
        "  power(0.5, extract(epoch FROM (max(at) - %(now)b::timestamptz)) / max(secs)) "
        "  * sum(pts * power(0.5, extract(epoch FROM (%(now)b::timestamptz - at)) / secs)) "
        "  AS value, jsonb_strip_nulls(jsonb_build_object("
        "    'opened', nullif(count(*) FILTER (WHERE kind = 'opened'), 0), "
        "    'clicked', nullif(count(*) FILTER (WHERE kind = 'clicked'), 0))) AS counts "
        "  FROM priced WHERE cap IS NULL OR n <= cap GROUP BY lead_id), "
        # Every lead with events or with a state (a correction may have taken its last
        # event away).
        "fresh AS (SELECT x.id, coalesce(a.value, 0) AS value, a.t0, "
        "  coalesce(a.counts, '{}') AS counts, coalesce(a.secs, 86400) AS secs "
        "  FROM campaigns_lead x LEFT JOIN agg a ON a.lead_id = x.id "
        "  WHERE (a.lead_id IS NOT NULL OR x.score_at IS NOT NULL)"
        f"{' AND x.id = ANY(%(leads)b::bigint[])' if only else ''}) "
        "UPDATE campaigns_lead l SET score_value = f.value, score_at = f.t0, "
        f"score_counts = f.counts, score = {new_score} "
        "FROM fresh f WHERE l.id = f.id AND (l.score_at IS DISTINCT FROM f.t0 "
        "  OR l.score_counts IS DISTINCT FROM f.counts "
        f"  OR l.score IS DISTINCT FROM {new_score} "
        "  OR abs(l.score_value - f.value) > 1e-9 * greatest(1, abs(f.value))) "
        "RETURNING l.id"
    )
    if only:
        return len(execute(sql, params))
    saved = execute("SELECT current_setting('enable_nestloop'), current_setting('work_mem')")[0]
    execute(
        "SELECT set_config('enable_nestloop', 'off', true), set_config('work_mem', '256MB', true)"
    )
    try:
        return len(execute(sql, params))
    finally:
        execute(
            "SELECT set_config('enable_nestloop', %b, true), set_config('work_mem', %b, true)",
            list(saved),
        )


_SCORED_ACTIVITY = (
    "a.kind IN ('opened', 'clicked') OR (a.kind = 'interest_changed' "
    "AND a.data->>'interest_status' IN ('meeting_booked', 'meeting_completed'))"
)


def _events_sql(only_leads: bool) -> str:
    """Every scored event: (org, lead_id, kind, at, seq = recording order)."""
    leads_a = " AND a.lead_id = ANY(%(leads)b::bigint[])" if only_leads else ""
    leads_t = " AND t.lead_id = ANY(%(leads)b::bigint[])" if only_leads else ""
    # Constant SQL pieces only; every value is a bound parameter.
    return (
        "SELECT a.organization_id AS org, a.lead_id, "  # noqa: S608
        "CASE WHEN a.kind = 'interest_changed' "
        "THEN a.data->>'interest_status' ELSE a.kind::text END AS kind, "
        "a.occurred_at AS at, a.id AS seq FROM campaigns_activity a "
        f"WHERE ({_SCORED_ACTIVITY}) AND a.lead_id IS NOT NULL{leads_a} "
        "UNION ALL "
        "SELECT m.organization_id, t.lead_id, 'reply:' || m.category, m.sent_at, m.id "
        "FROM messaging_message m JOIN messaging_thread t ON t.id = m.thread_id "
        "WHERE m.direction = 'inbound' AND m.kind = 'reply' AND t.lead_id IS NOT NULL"
        f"{leads_t}"
    )


def _params(rule: ScoringRules, now: dt.datetime, orgs, custom) -> dict[str, Any]:
    return {
        "zeroed": list(ZEROED_STATUSES),
        "now": now,
        "half_life": rule.half_life_days * 86400.0,
        "orgs": orgs or [],
        "custom": custom,
    }


# --- one lead ---------------------------------------------------------------------------------


def lead_events(lead_id: int) -> list[ScoreEvent]:
    """One lead's scored events in recording order (activities, then replies: caps only
    concern activities, so their relative order is what matters)."""
    rows = execute(
        "SELECT a.kind::text, a.data->>'interest_status', a.occurred_at FROM campaigns_activity a "
        "WHERE a.lead_id = %b AND (a.kind IN ('opened', 'clicked') OR (a.kind = "
        "'interest_changed' AND a.data->>'interest_status' IN ('meeting_booked', "
        "'meeting_completed'))) ORDER BY a.id",
        [lead_id],
    )
    events = [ScoreEvent(interest if kind == "interest_changed" else kind, at)
              for kind, interest, at in rows]  # fmt: skip
    replies = execute(
        "SELECT m.category, m.sent_at FROM messaging_message m JOIN messaging_thread t "
        "ON t.id = m.thread_id WHERE t.lead_id = %b AND m.direction = 'inbound' "
        "AND m.kind = 'reply' ORDER BY m.id",
        [lead_id],
    )
    return events + [ScoreEvent(f"reply:{category}", at) for category, at in replies]


def explain_lead(lead, now: dt.datetime) -> list[str]:
    """Why `lead` scores what it does, largest contributions first ("+27 replied interested
    2 days ago", "+3 clicked 5 days ago"); a zeroed lead says why it is at 0."""
    if lead.do_not_contact:
        return ["0: the lead asked not to be contacted"]
    if lead.status in ZEROED_STATUSES:
        return [f"0: the lead is {lead.get_status_display().lower()}"]
    rule = rules_for([lead.organization_id])[lead.organization_id]
    lines = engine.explain(lead_events(lead.pk), rule, now)
    return [line.describe(now) for line in lines if round(line.points_now)][:8]
