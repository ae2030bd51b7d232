"""Benchmark: drain 100,000 stored webhook deliveries with the worker code, check every counter.

    .venv/bin/python bench/processing.py [--events N] [--campaigns N] [--contacts N]
                                         [--workers N] [--batch N] [--seed N]
                                         [--prefill ROWS]

A throw-away database is created (owner role), migrated and dropped at the end. Deliveries of
mixed types (sends, opens, the three click spellings, replies, automatic replies, bounces,
unsubscribes and spam reports, interest changes and custom labels, lead status, campaign and
mailbox events, plus types nobody handles) are generated for N campaigns and N contacts in
Instantly's flat shape, with exact duplicates (retries), near-duplicates (the same email
reported again with a later timestamp) and local disorder. They are stored as the receiver
stores them (exact duplicates dropped by the dedupe key), then `--workers` processes run the
worker's batch loop (`queue.drain`) in parallel until nothing is pending.

`--prefill 10000000` first puts that many processed deliveries in the table (generate_series),
to see whether the drain's claims stay cheap as the table grows.

Printed: events/s over the drain (with the load average), and a check that every counter
equals what the deliveries imply, computed here independently from the deliveries (see `expected`), plus the final lead
states (forward-only in time) and the event statuses. Exit status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_support import (  # noqa: E402
    PREFILL_CONNECTION,
    load_average,
    prefill_webhook_events,
    setup_django,
    throwaway_database,
)

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 14
WORKSPACE = "0195a3c0-1111-7000-8000-00000000be0c"
FIRST = ("Maya", "Liam", "Ana", "Noah", "Zoe", "Ivan", "Lena", "Omar", "Sara", "Tom")
LAST = ("Patel", "Berg", "Costa", "Nowak", "Ito", "Meyer", "Khan", "Silva", "Ruiz", "Lund")
COMPANIES = ("Bluepeak", "Northwind", "Copperleaf", "Granite", "Lumen", "Quarry", "Zephyr")
# Fill events after each lead's first send: (kind, weight).
KINDS = (
    ("sent", 22), ("opened", 30), ("clicked", 7), ("replied", 5), ("auto_replied", 2),
    ("bounced", 2), ("unsubscribed", 2), ("interest", 7), ("lead_completed", 4),
    ("lead_error", 1), ("enrichment", 1.5), ("unknown", 0.5),
)  # fmt: skip
CLICK_SPELLINGS = ("email_link_clicked", "link_clicked", "email_clicked")
UNSUBSCRIBE_SPELLINGS = ("lead_unsubscribed", "email_unsubscribed", "email_spam_report")
INTEREST_SPELLINGS = (
    "lead_interested", "lead_meeting_booked", "lead_not_interested", "lead_neutral",
    "lead_meeting_completed", "lead_closed", "lead_out_of_office", "lead_wrong_person",
    "lead_no_show", "Hot Prospect",
)  # fmt: skip
LEAD_STATUS = {
    "email_bounced": "bounced",
    "lead_unsubscribed": "unsubscribed",
    "email_unsubscribed": "unsubscribed",
    "email_spam_report": "unsubscribed",
}
INTEREST = {
    "lead_interested": "interested",
    "lead_meeting_booked": "meeting_booked",
    "lead_not_interested": "not_interested",
    "lead_neutral": "neutral",
    "lead_meeting_completed": "meeting_completed",
    "lead_closed": "closed",
    "lead_out_of_office": "out_of_office",
    "lead_wrong_person": "wrong_person",
    "lead_no_show": "no_show",
    "Hot Prospect": "custom",
    "lead_teleported": "custom",
}
# Any event type Instantly does not document is a custom lead label's text (instantly 14a).
CUSTOM_LABELS = ("Hot Prospect", "lead_teleported")
DAY_COUNTERS = {
    "email_sent": "sent",
    "email_opened": "opened",
    **dict.fromkeys(CLICK_SPELLINGS, "clicked"),
    "reply_received": "replied",
    "auto_reply_received": "auto_replied",
    "email_bounced": "bounced",
    **dict.fromkeys(UNSUBSCRIBE_SPELLINGS, "unsubscribed"),
    "lead_interested": "interested",
    "lead_meeting_booked": "meetings_booked",
}
MESSAGE_TYPES = ("email_sent", "reply_received", "auto_reply_received")
HANDLED_NON_LEAD = ("campaign_completed", "account_error")
# Stored as ignored: nothing to do, or the seed's names no Instantly event has (campaign and lead
# state come from the sync; see instantly.webhooks.effects).
UNHANDLED = (
    "supersearch_enrichment_completed", "campaign_started", "campaign_paused", "lead_completed",
    "lead_error",
)  # fmt: skip


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ts(at: dt.datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Generator:
    """Deterministic deliveries: every lead gets a first send, the rest is drawn by weight."""

    def __init__(self, seed: int, campaigns: int, contacts: int) -> None:
        self.rng = random.Random(seed)
        self.campaigns = [
            (str(uuid.UUID(int=random.Random(f"c{seed}:{i}").getrandbits(128), version=4)),
             f"Campaign {i:02d}")
            for i in range(campaigns)
        ]  # fmt: skip
        self.mailboxes = [f"sender{i:02d}@salesbrain-mail.example" for i in range(40)]
        self.contacts = []
        for i in range(contacts):
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            company = COMPANIES[i % len(COMPANIES)]
            self.contacts.append(
                (f"{first}.{last}.{i}@{company}.example".lower(), first, last, company)
            )
        # Each contact is a lead in one campaign; one in ten also in a second one.
        self.leads = [(i, i % campaigns) for i in range(contacts)]
        self.leads += [(i, (i + 7) % campaigns) for i in range(0, contacts, 10)]
        self.cursor = {}  # lead index -> last event time
        self.step = Counter()

    def _next_time(self, lead: int) -> dt.datetime:
        # Strictly increasing per lead (no ties between a lead's states), never in a day's last
        # 10 seconds (a near-duplicate 1 s later stays on the same day).
        at = self.cursor[lead] + dt.timedelta(seconds=self.rng.randint(60, 7200))
        if at.hour == 23 and at.minute == 59 and at.second >= 50:
            at += dt.timedelta(seconds=15)
        self.cursor[lead] = at
        return at

    def _base(self, event_type: str, at: dt.datetime, campaign: int) -> dict:
        cid, name = self.campaigns[campaign]
        return {
            "timestamp": _ts(at),
            "event_type": event_type,
            "workspace": WORKSPACE,
            "campaign_id": cid,
            "campaign_name": name,
        }

    def _lead_event(self, event_type: str, lead: int, **extra) -> dict:
        contact, campaign = self.leads[lead]
        email, first, last, company = self.contacts[contact]
        delivery = self._base(event_type, self._next_time(lead), campaign)
        step = max(1, self.step[lead])
        as_text = self.rng.random() < 0.2
        delivery.update(
            lead_email=email,
            email=email,
            email_account=self.mailboxes[lead % len(self.mailboxes)],
            step=str(step) if as_text else step,
            variant=str(1 + lead % 2) if as_text else 1 + lead % 2,
            unibox_url=f"https://app.instantly.ai/app/unibox?thread_search=thread:t{lead}",
            **extra,
        )
        delivery.update(firstName=first, lastName=last, companyName=company, jobTitle="CTO")
        return delivery

    def _fill(self, kind: str, lead: int) -> dict:
        rng = self.rng
        if kind == "sent":
            self.step[lead] += 1
            extra = {
                "email_id": _id(rng),
                "email_subject": "Quick question",
                "email_text": "Hi there, worth a chat?",
                "email_html": "<p>Hi there, worth a chat?</p>",
            }
            if rng.random() < 0.7:  # is_first is sometimes absent
                extra["is_first"] = self.step[lead] == 1
            return self._lead_event("email_sent", lead, **extra)
        if kind in ("replied", "auto_replied"):
            event_type = "reply_received" if kind == "replied" else "auto_reply_received"
            text = "Sounds good, send times." if kind == "replied" else "Out of office."
            return self._lead_event(
                event_type,
                lead,
                email_id=_id(rng),
                reply_subject="Re: Quick question",
                reply_text=text,
                reply_html=f"<p>{text}</p>",
                reply_text_snippet=text,
            )
        event_type = {
            "opened": "email_opened",
            "clicked": rng.choice(CLICK_SPELLINGS),
            "bounced": "email_bounced",
            "unsubscribed": rng.choice(UNSUBSCRIBE_SPELLINGS),
            "interest": rng.choice(INTEREST_SPELLINGS),
            "lead_completed": "lead_completed",
            "lead_error": "lead_error",
            "enrichment": "supersearch_enrichment_completed",
            "unknown": "lead_teleported",
        }[kind]
        return self._lead_event(event_type, lead)

    def deliveries(self, count: int) -> list[dict]:
        rng = self.rng
        for lead in range(len(self.leads)):
            self.cursor[lead] = START + dt.timedelta(seconds=rng.randint(0, (DAYS - 3) * 86400))
        out = []
        for index, campaign in enumerate(self.campaigns):
            out.append(self._base("campaign_started", START + dt.timedelta(minutes=index), index))
            del campaign
        for n in range(20):
            at = START + dt.timedelta(days=rng.randint(0, DAYS - 1), minutes=n)
            delivery = self._base("account_error", at, n % len(self.campaigns))
            delivery.update(email_account=self.mailboxes[n], error_message=f"535 auth failed #{n}")
            out.append(delivery)
        out.extend(self._fill("sent", lead) for lead in range(len(self.leads)))
        for n in range(5):
            at = START + dt.timedelta(days=DAYS + 1, minutes=n)
            out.append(self._base("campaign_completed", at, n))
        kinds, weights = zip(*KINDS, strict=True)
        unique_target = int(count * 0.97)
        while len(out) < unique_target:
            lead = rng.randrange(len(self.leads))
            out.append(self._fill(rng.choices(kinds, weights)[0], lead))
        out.sort(key=lambda d: d["timestamp"])
        # Retries: exact copies (2%) and the same email reported again 1 s later (1%).
        while len(out) < count:
            index = rng.randrange(len(out))
            original = out[index]
            if rng.random() < 2 / 3 or original["event_type"] not in MESSAGE_TYPES:
                copy = dict(original)
            else:
                at = dt.datetime.fromisoformat(original["timestamp"].replace("Z", "+00:00"))
                copy = dict(original, timestamp=_ts(at + dt.timedelta(seconds=1)))
            out.insert(min(len(out), index + rng.randint(1, 400)), copy)
        # Disorder: each delivery may swap with one up to 300 places away.
        for i in range(len(out)):
            j = min(len(out) - 1, i + rng.randint(0, 300))
            if rng.random() < 0.1:
                out[i], out[j] = out[j], out[i]
        return out[:count]


def canonical(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def day_of(payload: dict) -> dt.date:
    return dt.datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")).date()


def expected(deliveries: list[dict]) -> dict:
    """What the stored rows must say, from the deliveries alone (the documented definitions)."""
    seen, distinct = set(), []
    for d in deliveries:
        key = canonical(d)
        if key not in seen:
            seen.add(key)
            distinct.append(d)
    days: dict[tuple[str, dt.date], Counter] = defaultdict(Counter)
    totals: dict[str, Counter] = defaultdict(Counter)
    mailbox_days: dict[tuple[str, dt.date], Counter] = defaultdict(Counter)
    messages, leads_by = set(), defaultdict(set)
    status, interest = {}, {}
    statuses = Counter()
    for d in distinct:
        t = d["event_type"]
        if t in UNHANDLED:
            statuses["ignored"] += 1
            continue
        statuses["processed"] += 1
        if t in HANDLED_NON_LEAD:
            continue
        cid, lead = d["campaign_id"], (d["campaign_id"], d["lead_email"])
        if t in MESSAGE_TYPES:
            if (cid, d["email_id"]) in messages:
                continue  # the same email again: counted once
            messages.add((cid, d["email_id"]))
        counter = DAY_COUNTERS.get(t)
        if counter:
            days[(cid, day_of(d))][counter] += 1
        for kinds, unique in (
            (("email_sent",), "contacted"),
            (("email_opened",), "unique_opened"),
            (CLICK_SPELLINGS, "unique_clicked"),
            (("reply_received",), "unique_replied"),
        ):
            if t in kinds and lead not in leads_by[unique]:
                leads_by[unique].add(lead)
                totals[cid][unique] += 1
        mailbox_counter = {
            "email_sent": "sent",
            "email_bounced": "bounced",
            "reply_received": "replied",
        }.get(t)
        if mailbox_counter:
            mailbox_days[(d["email_account"], day_of(d))][mailbox_counter] += 1
        if t in LEAD_STATUS and d["timestamp"] > status.get(lead, ("", ""))[0]:
            status[lead] = (d["timestamp"], LEAD_STATUS[t])
        if t in INTEREST and d["timestamp"] > interest.get(lead, ("", ""))[0]:
            interest[lead] = (d["timestamp"], INTEREST[t], t if t in CUSTOM_LABELS else "")
    return {
        "distinct": len(distinct),
        "days": days,
        "totals": totals,
        "mailbox_days": mailbox_days,
        "status": {lead: s for lead, (_ts, s) in status.items()},
        "interest": {lead: (i, label) for lead, (_ts, i, label) in interest.items()},
        "statuses": statuses,
        "messages": len(messages),
    }


def load(deliveries: list[dict]) -> tuple[int, int]:
    """Store the deliveries as the receiver does (exact duplicates dropped by the dedupe key)."""
    from accounts.tenancy import staff_scope
    from instantly.models import ProviderConnection, WebhookEvent
    from instantly.webhooks.ingest import build_event
    from salesbrain.bulk import insert_rows

    with staff_scope():
        connection = ProviderConnection(
            name="Bench workspace", is_shared=True, workspace_id=WORKSPACE
        )
        connection.api_key = "bench-key-0000"
        connection.save()
    received = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    stored = 0
    for start in range(0, len(deliveries), 5000):
        events = [
            build_event(connection, d, received_at=received + dt.timedelta(microseconds=start + i))
            for i, d in enumerate(deliveries[start : start + 5000])
        ]
        with staff_scope():
            stored += len(insert_rows(WebhookEvent, events))
    with staff_scope():
        pending = WebhookEvent.objects.filter(status="pending").count()
    analyze()
    return stored, pending


def analyze() -> None:
    """Refresh planner statistics after the bulk load, as autovacuum would (owner only)."""
    import psycopg
    from django.conf import settings
    from django.db import connection

    cfg = connection.settings_dict
    owner = settings.DATABASE_OWNER
    with psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"],
        dbname=cfg["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        autocommit=True,
    ) as conn:
        conn.execute("ANALYZE")


def _worker(batch_size: int, queue) -> None:
    from django.db import connections

    from instantly.webhooks.queue import drain

    connections.close_all()
    report = drain(batch_size=batch_size)
    queue.put((report.processed, report.ignored, report.failed, len(report.retries)))
    connections.close_all()


def drain(workers: int, batch_size: int) -> tuple[float, Counter]:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    started = time.perf_counter()
    procs = [ctx.Process(target=_worker, args=(batch_size, queue)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    totals = Counter()
    for processed, ignored, failed, retrying in results:
        totals.update(processed=processed, ignored=ignored, failed=failed, retrying=retrying)
    return elapsed, totals


def verify(want: dict) -> list[str]:
    from accounts.tenancy import staff_scope
    from campaigns import daily_totals
    from campaigns.models import Campaign, CampaignDailyStat, EmailAccountDailyStat, Lead
    from instantly.models import WebhookEvent
    from messaging.models import Message

    problems = []
    with staff_scope():
        ids = dict(Campaign.objects.values_list("id", "instantly_id"))
        got_days: dict[tuple[str, dt.date], Counter] = defaultdict(Counter)
        got_totals: dict[str, Counter] = defaultdict(Counter)
        for row in CampaignDailyStat.objects.all():
            cid = ids[row.campaign_id]
            for name in CampaignDailyStat.COUNTERS:
                value = getattr(row, name)
                if name in ("contacted", "unique_opened", "unique_clicked", "unique_replied"):
                    got_totals[cid][name] += value
                elif value:
                    got_days[(cid, row.date)][name] = value
        got_mailbox: dict[tuple[str, dt.date], Counter] = defaultdict(Counter)
        for row in EmailAccountDailyStat.objects.select_related("email_account"):
            for name in ("sent", "bounced", "replied"):
                if getattr(row, name):
                    got_mailbox[(row.email_account.email, row.date)][name] = getattr(row, name)
        leads = Lead.objects.values_list(
            "campaign__instantly_id",
            "contact__email",
            "status",
            "interest_status",
            "interest_label",
        )
        statuses = Counter(
            WebhookEvent.objects.exclude(connection_id=PREFILL_CONNECTION).values_list(
                "status", flat=True
            )
        )
        messages = Message.objects.count()
    want_days = {k: v for k, v in want["days"].items() if v}
    if dict(got_days) != want_days:
        diff = {k for k in set(got_days) | set(want_days) if got_days.get(k) != want_days.get(k)}
        sample = sorted(diff, key=str)[:3]
        problems.append(
            f"daily counters differ on {len(diff)} campaign-days, e.g. "
            + "; ".join(
                f"{k}: got {dict(got_days.get(k, {}))} want {dict(want_days.get(k, {}))}"
                for k in sample
            )
        )
    if dict(got_totals) != dict(want["totals"]):
        problems.append("unique/contacted totals differ")
    if dict(got_mailbox) != dict(want["mailbox_days"]):
        problems.append("mailbox daily counters differ")
    if messages != want["messages"]:
        problems.append(f"messages: got {messages}, want {want['messages']}")
    # The organizations' daily ledger (kept by triggers under concurrent workers) adds up.
    if wrong_ledger := daily_totals.differences():
        problems.append(f"organization days differ from their campaigns': {wrong_ledger[:3]}")
    wrong_state = 0
    for cid, email, status, interest, label in leads:
        key = (cid, email)
        if status != want["status"].get(key, "active"):
            wrong_state += 1
        if (interest, label) != want["interest"].get(key, ("", "")):
            wrong_state += 1
    if wrong_state:
        problems.append(f"{wrong_state} lead states differ from the latest event")
    if statuses != want["statuses"]:
        problems.append(f"event statuses: got {dict(statuses)}, want {dict(want['statuses'])}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--prefill", type=int, default=0, help="processed rows already in webhook_event"
    )
    parser.add_argument(
        "--without-pending-index",
        action="store_true",
        help="drop webhookevent_pending_idx first (the claims as they were before it)",
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    deliveries = Generator(args.seed, args.campaigns, args.contacts).deliveries(args.events)
    want = expected(deliveries)
    kinds = Counter(d["event_type"] for d in deliveries)
    print(f"generated {len(deliveries):,} deliveries ({want['distinct']:,} distinct) "
          f"in {time.perf_counter() - t0:.1f}s: "
          + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))  # fmt: skip
    with throwaway_database("bench_hooks_proc") as url:
        if args.prefill:
            seconds = prefill_webhook_events(url, args.prefill)
            print(f"table prefilled with {args.prefill:,} processed rows in {seconds:.0f}s")
        if args.without_pending_index:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DROP INDEX IF EXISTS webhookevent_pending_idx")
            print("without the partial index on pending rows")
        setup_django(url)
        t0 = time.perf_counter()
        stored, pending = load(deliveries)
        print(f"stored {stored:,} rows ({pending:,} pending) in {time.perf_counter() - t0:.1f}s")
        elapsed, report = drain(args.workers, args.batch)
        rate = sum(report[k] for k in ("processed", "ignored", "failed")) / elapsed
        print(
            f"drained with {args.workers} worker processes, batches of {args.batch}: "
            f"{dict(report)} in {elapsed:.1f}s = {rate:,.0f} events/s ({load_average()})"
        )
        problems = verify(want)
        from django.db import connections

        connections.close_all()
    if problems:
        print("COUNTERS WRONG:\n  " + "\n  ".join(problems))
        return 1
    print("counters, lead states and event statuses equal what the deliveries imply: OK")
    print(f"goal >= 1,000 events/s: {'met' if rate >= 1000 else 'NOT met'} ({rate:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
