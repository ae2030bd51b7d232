"""Benchmark: a full lead-score recomputation and a decay pass over 200,000 leads.

    .venv/bin/python bench/lead_scores.py [--leads N] [--orgs N] [--seed N]

A throw-away database is created (owner role), migrated and dropped at the end. It gets N
leads in 10 campaigns per organization, each with a random history over 60 days: opens
(0-8), clicks (0-3), a meeting booked now and then, and for about one lead in eight a
categorised reply. One organization has its own points and half-life, so the pass runs one
statement per rules group. Printed: the rows generated, then the time of `recompute_scores`
(every lead rebuilt from its events, in SQL) from scratch (every lead written) and again (the
state already right: nothing to write), a check that it equals the state a Python fold of
each lead's events gives on a sample, and the time of `decay_scores`. Goal: < 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_support import setup_django, throwaway_database  # noqa: E402

NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)
CATEGORIES = ("interested", "meeting_request", "information_request", "not_interested",
              "out_of_office", "wrong_person", "do_not_contact")  # fmt: skip


def populate(leads: int, orgs: int, seed: int) -> dict[str, int]:
    from accounts.models import Organization
    from accounts.tenancy import staff_scope
    from campaigns.models import Activity, Campaign, Contact, Lead
    from instantly.models import ProviderConnection
    from messaging.models import Message, ReplySettings, Thread
    from salesbrain.bulk import chunks, insert_rows

    rng = random.Random(seed)
    counts = {"leads": 0, "activities": 0, "replies": 0}
    with staff_scope():
        connection = ProviderConnection(name="Bench", is_shared=True, workspace_id="ws-bench")
        connection.api_key = "bench-key"
        connection.set_new_webhook_secret()
        connection.save()
        organizations = [Organization.objects.create(name=f"Org {i}", slug=f"org-{i}")
                         for i in range(orgs)]  # fmt: skip
        ReplySettings.objects.create(organization=organizations[0], score_half_life_days=7,
                                     score_points={"opened": 1, "reply:interested": 40})  # fmt: skip
        per_org = leads // orgs
        for org in organizations:
            campaigns = [Campaign.objects.create(organization=org, connection_id=connection.pk,
                                                 instantly_id=str(uuid.uuid4()), name=f"C{i}")
                         for i in range(10)]  # fmt: skip
            for batch in chunks(range(per_org), 5000):
                contact_ids = [row[0] for row in insert_rows(Contact, [
                    {"organization_id": org.pk, "email": f"l{i}@{org.slug}.example"}
                    for i in batch
                ])]  # fmt: skip
                lead_rows = insert_rows(Lead, [
                    {"organization_id": org.pk, "campaign_id": campaigns[i % 10].pk,
                     "contact_id": c, "status": "bounced" if rng.random() < 0.02 else "active"}
                    for i, c in zip(batch, contact_ids, strict=True)
                ], returning=("id", "campaign_id", "contact_id"))  # fmt: skip
                activities, threads, replies = [], [], []
                for lead_id, campaign_id, contact_id in lead_rows:
                    base = NOW - dt.timedelta(days=rng.uniform(3, 60))
                    history = ["opened"] * rng.randint(0, 8) + ["clicked"] * rng.randint(0, 3)
                    if rng.random() < 0.01:
                        history.append("meeting")
                    for kind in history:
                        at = base + dt.timedelta(hours=rng.uniform(0, 72))
                        activities.append({
                            "organization_id": org.pk, "lead_id": lead_id,
                            "campaign_id": campaign_id, "contact_id": contact_id,
                            "occurred_at": at,
                            "kind": "interest_changed" if kind == "meeting" else kind,
                            "data": {"interest_status": "meeting_booked"} if kind == "meeting"
                            else {},
                        })  # fmt: skip
                    if rng.random() < 0.125:
                        threads.append({"organization_id": org.pk, "campaign_id": campaign_id,
                                        "contact_id": contact_id, "lead_id": lead_id,
                                        "has_reply": True})  # fmt: skip
                insert_rows(Activity, activities, returning=())
                thread_rows = insert_rows(Thread, threads, returning=("id", "lead_id"))
                for thread_id, _lead_id in thread_rows:
                    replies.append({
                        "organization_id": org.pk, "thread_id": thread_id,
                        "direction": "inbound", "kind": "reply",
                        "sent_at": NOW - dt.timedelta(days=rng.uniform(0, 30)),
                        "category": rng.choice(CATEGORIES), "category_confidence": 0.9,
                    })  # fmt: skip
                insert_rows(Message, replies, returning=())
                counts["leads"] += len(lead_rows)
                counts["activities"] += len(activities)
                counts["replies"] += len(replies)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--orgs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with throwaway_database("bench_scores") as url:
        setup_django(url)
        import psycopg
        from django.db import connections

        from accounts.tenancy import staff_scope
        from campaigns.models import Lead
        from messaging.scoring import engine
        from messaging.scoring import store as scoring

        t0 = time.perf_counter()
        counts = populate(args.leads, args.orgs, args.seed)
        print(f"generated {counts['leads']:,} leads, {counts['activities']:,} activities, "
              f"{counts['replies']:,} categorised replies in {time.perf_counter() - t0:.0f}s")  # fmt: skip
        with psycopg.connect(url, autocommit=True) as owner:  # statistics, as autovacuum would
            owner.execute("ANALYZE")
        with staff_scope():
            t0 = time.perf_counter()
            written = scoring.recompute_scores(NOW)
            recompute = time.perf_counter() - t0
        print(f"full recomputation from scratch: {written:,} leads written in {recompute:.2f} s")
        with staff_scope():
            t0 = time.perf_counter()
            again = scoring.recompute_scores(NOW)
            check = time.perf_counter() - t0
        print(f"again, scores already kept (the periodic check): {again:,} leads changed in "
              f"{check:.2f} s")  # fmt: skip
        with staff_scope():
            sample = list(Lead.objects.unscoped().order_by("?")[:300])
            rules = scoring.rules_for({lead.organization_id for lead in sample})
            wrong = 0
            for lead in sample:
                state = engine.fold(scoring.lead_events(lead.pk), rules[lead.organization_id])
                zeroed = lead.status in scoring.ZEROED_STATUSES or lead.do_not_contact
                if state.score(rules[lead.organization_id], NOW, zeroed=zeroed) != lead.score:
                    wrong += 1
        print(f"Python fold of each lead's events = SQL recomputation on a sample of "
              f"{len(sample)}: {'OK' if not wrong else f'{wrong} differ'}")  # fmt: skip
        with staff_scope():
            t0 = time.perf_counter()
            changed = scoring.decay_scores(NOW + dt.timedelta(days=1))
            decay = time.perf_counter() - t0
        print(f"decay pass one day later: {changed:,} scores changed in {decay:.2f} s")
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"goal < 10 s for 200,000 leads: {'met' if recompute < 10 else 'NOT met'}")
        connections.close_all()
    return 0 if not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
