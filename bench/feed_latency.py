"""Live-feed latency: from a webhook POST to the line arriving at every SSE subscriber.

Runs the production shape on its own database: gunicorn with uvicorn workers (ASGI) serving
the receiver and `/feed/stream/`, a real Celery worker on Redis processing the deliveries, and
N subscribers (asyncio, raw sockets) split across two organizations, authenticated with API
tokens. A baseline phase (one subscriber per organization, 5 deliveries a second) comes first,
then the measured phase (default 200 subscribers, 50 deliveries a second, 30 s). Each delivery
is a reply from a lead whose first name carries a sequence number, so a subscriber knows which
POST a line answers and whether it was meant for its organization.

    .venv/bin/python bench/feed_latency.py [--subscribers 200 --rate 50 --seconds 30]
        [--posts-in-flight 8] [--db-pool-max-size N --conn-max-age S] [--worker-class ...]

Prints POST-to-arrival p50/p95/p99, lines missed, cross-organization leaks (must be 0),
memory per open stream (web workers' RSS before and after connecting), and load average, then
where the time went (`breakdown`): the sender's queue, the receiver, the Celery queue,
processing up to the commit (a NOTIFY seen by the bench's own listener), and the fan-out.
Set BENCH_REDIS_URL to your own Redis database: the run flushes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_ingest import free_port  # noqa: E402
from bench.webhook_support import (  # noqa: E402
    ROOT,
    bench_connection,
    bench_environment,
    post_delivery,
    setup_django,
    start_web_and_worker,
    throwaway_database,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RAMP = 10  # subscribers connecting at once
POSTS_IN_FLIGHT = 8
SEQ = re.compile(rb'"title": "Reply from n(\d+) ')


def delivery(seq: int, campaign_id: str, org_tag: str) -> dict:
    lead = f"lead{seq}@{org_tag}.example"
    return {
        "timestamp": "2026-03-02T11:20:05.000Z",
        "event_type": "reply_received",
        "workspace": "ws-bench",
        "campaign_id": campaign_id,
        "campaign_name": f"Bench {org_tag}",
        "lead_email": lead,
        "email": lead,
        "email_account": "sender@bench-mail.example",
        "step": 1,
        "variant": 1,
        "email_id": f"bench-{seq}",
        "email_subject": "Re: hello",
        "reply_text": "Sounds good, tell me more.",
        "firstName": f"n{seq}",
        "lastName": org_tag,
    }


def prepare() -> dict:
    """Two organizations with a user and token each, a campaign each, a webhook secret."""
    from django.contrib.auth import get_user_model

    from accounts.api_tokens import ApiToken
    from accounts.models import Membership, Organization
    from accounts.tenancy import staff_scope
    from campaigns.assignment import assign_campaign
    from campaigns.models import Campaign

    connection, secret = bench_connection()
    orgs = {}
    for tag in ("orga", "orgb"):
        org = Organization.objects.create(slug=tag, name=tag.upper())
        user = get_user_model().objects.create_user(f"user-{tag}", f"{tag}@bench.example")
        Membership.objects.create(user=user, organization=org, role="member")
        _, key = ApiToken.issue(user, "bench")
        with staff_scope():
            campaign = Campaign.objects.create(
                connection_id=connection.pk, instantly_id=f"camp-{tag}", name=f"Bench {tag}"
            )
        assign_campaign(campaign, org)
        orgs[tag] = {"token": key, "campaign": f"camp-{tag}"}
    return {"secret": secret, "orgs": orgs}


def start(
    database_url: str, port: int, workers: int, web_env: dict[str, str], worker_class: str
) -> tuple[subprocess.Popen, subprocess.Popen]:
    env = bench_environment(
        database_url,
        CELERY_BROKER_URL=REDIS_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=os.environ["SECRET_KEY"],
        SECRETS_ENCRYPTION_KEYS=os.environ["SECRETS_ENCRYPTION_KEYS"],
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
    )
    web_args = [
        "salesbrain.asgi:application", "-k", worker_class, "--log-level", "warning",
        "--backlog", "2048",
    ]  # fmt: skip
    return start_web_and_worker(web_args, port, {**env, **web_env}, env, ROOT)


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn master + workers)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


class Announcements:
    """When each feed line's NOTIFY reached a listener of our own: the moment the worker's
    transaction committed, as the stream servers' listeners see it (the worker stamps its rows
    with the time it *started* the batch, so the rows alone cannot tell processing from
    fan-out). A thread with its own connection, so the subscribers' event loop cannot delay it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.at: dict[int, float] = {}
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Announcements:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(5)

    def _run(self) -> None:
        import psycopg

        from messaging.feed import FEED_CHANNEL

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(f"LISTEN {FEED_CHANNEL}")
            self.ready.set()
            while not self.stopping.is_set():
                for notify in conn.notifies(timeout=0.5):
                    self.at.setdefault(json.loads(notify.payload)["id"], time.time())


class Subscriber:
    def __init__(self, org: str, token: str) -> None:
        self.org, self.token = org, token
        self.arrivals: dict[int, float] = {}
        self.leaks = 0
        self.connected = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self, port: int, owner: dict[int, str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(
            (
                "GET /feed/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Token {self.token}\r\nAccept: text/event-stream\r\n"
                "Last-Event-ID: 999999999\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise SystemExit(f"stream refused: {status!r}")
        self.connected.set()
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"data: "):
                    now = time.time()
                    # A regex on the raw line, not json.loads: at 200 streams x 50 lines/s
                    # the client's own parsing would be what is measured.
                    match = SEQ.search(line)
                    if match:
                        seq = int(match.group(1))
                        if owner.get(seq) != self.org:
                            self.leaks += 1
                        self.arrivals.setdefault(seq, now)
        finally:
            writer.close()


async def post(
    port: int, secret: str, payload: dict, limit: asyncio.Semaphore
) -> tuple[int, float, float]:
    """(status, when it left the sender's queue, when the answer arrived): the receiver
    answers once the delivery is committed."""
    async with limit:
        sent = time.time()
        status = await post_delivery(port, secret, payload)
        return status, sent, time.time()


def db_sessions(database_name: str) -> int:
    """Sessions open on the bench database (web workers, listener, Celery worker, and this
    bench's own listener for the breakdown)."""
    import psycopg

    from bench.webhook_support import OWNER_URL

    with psycopg.connect(OWNER_URL, autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        return conn.execute(query, [database_name]).fetchone()[0]


async def phase(
    port,
    setup,
    *,
    subscribers,
    rate,
    seconds,
    first_seq,
    web_pid,
    database_name,
    posts_in_flight=POSTS_IN_FLIGHT,
) -> dict:
    owner: dict[int, str] = {}
    tags = list(setup["orgs"])
    subs = [
        Subscriber(tags[i % 2], setup["orgs"][tags[i % 2]]["token"]) for i in range(subscribers)
    ]
    before = rss_kb(web_pid)
    # Connect in small groups: each handshake briefly holds a database session (token lookup,
    # tenant scope, the missed-lines query); an open stream holds none.
    for start_at in range(0, len(subs), RAMP):
        group = subs[start_at : start_at + RAMP]
        for sub in group:
            sub.task = asyncio.create_task(sub.run(port, owner))
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in group)), 60)
    await asyncio.sleep(1.0)
    after = rss_kb(web_pid)
    sessions = db_sessions(database_name)
    posted: dict[int, float] = {}
    # Like a sender with a connection pool: each POST in flight holds a database session in
    # the receiver, and the machine's PostgreSQL (max_connections 100) is shared.
    in_flight = asyncio.Semaphore(posts_in_flight)
    statuses: list[asyncio.Task] = []
    # Wall-clock times (time.time), not monotonic: the breakdown compares them with the
    # timestamps the receiver and the worker write into the database on this same machine.
    start = time.time()
    total = int(rate * seconds)
    for n in range(total):
        seq = first_seq + n
        tag = tags[n % 2]
        owner[seq] = tag
        target = start + n / rate
        await asyncio.sleep(max(0.0, target - time.time()))
        posted[seq] = time.time()
        payload = delivery(seq, setup["orgs"][tag]["campaign"], tag)
        statuses.append(asyncio.create_task(post(port, setup["secret"], payload, in_flight)))
    answers = await asyncio.gather(*statuses)
    codes = [code for code, _, _ in answers]
    answered = {seq: at for seq, (code, _, at) in zip(posted, answers, strict=True) if code < 300}
    sent = {seq: at for seq, (_, at, _) in zip(posted, answers, strict=True)}
    await asyncio.sleep(5.0)  # stragglers
    latencies, missed = [], 0
    for sub in subs:
        for seq, at in posted.items():
            if owner[seq] != sub.org:
                continue
            if seq in sub.arrivals:
                latencies.append(sub.arrivals[seq] - at)
            else:
                missed += 1
        sub.task.cancel()
    await asyncio.gather(*(s.task for s in subs), return_exceptions=True)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "subscribers": subscribers,
        "deliveries": total,
        "rate": rate,
        "non_2xx": sum(1 for c in codes if not 200 <= c < 300),
        "arrived": len(latencies),
        "missed": missed,
        "leaks": sum(s.leaks for s in subs),
        "p50": pct(50) if latencies else float("nan"),
        "p95": pct(95) if latencies else float("nan"),
        "p99": pct(99) if latencies else float("nan"),
        "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "rss_per_stream_kb": (after - before) / subscribers,
        "db_sessions": sessions,
        "load": os.getloadavg(),
        # Raw times for the breakdown, read against the database once the phase is over.
        "posted": posted,
        "answered": answered,
        "sent": sent,
        "arrivals": [(seq, at) for sub in subs for seq, at in sub.arrivals.items()],
    }


TITLE_SEQ = re.compile(r"Reply from n(\d+) ")


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    values = sorted(values)

    def at(p):
        return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000

    return f"p50 {at(50):6.0f}  p95 {at(95):6.0f}  p99 {at(99):6.0f} ms"


def breakdown(r: dict, announced: dict[int, float]) -> dict[str, list[float]]:
    """Where the time goes, per delivery, from the timestamps each step leaves behind:

    - POST -> committed: the receiver's answer at the client (it answers after its commit),
      into the sender's queue (--posts-in-flight), then to the `WebhookEvent`'s `received_at`
      (the receiver's clock when its view ran: the socket, accept, middleware, a pooled
      connection), then storing, committing and the answer's way back;
    - committed -> processed: to the NOTIFY of the delivery's feed line (the worker's commit),
      split at the `WebhookEvent`'s `claimed_at` (= the `FeedEvent`'s `created_at`: the worker
      stamps both with the time it claimed the batch) into waiting in the queue (Celery
      publish, the broker, a free worker process) and processing up to the commit;
    - processed -> arrival: from that NOTIFY to the line at each subscriber that got it (the
      stream server's listener, its read of the rows, the fan-out, the socket, the client).
    """
    from accounts.tenancy import staff_scope
    from instantly.models import WebhookEvent
    from messaging.models import FeedEvent

    with staff_scope():
        lines = FeedEvent.objects.filter(kind=FeedEvent.Kind.REPLY).values_list(
            "id", "title", "source_event_id"
        )
        line_of, source = {}, {}
        for line_id, title, source_id in lines:
            match = TITLE_SEQ.search(title)
            if match and int(match.group(1)) in r["posted"]:
                line_of[int(match.group(1))] = line_id
                source[int(match.group(1))] = source_id
        stamps = WebhookEvent.objects.filter(id__in=source.values()).values_list(
            "id", "received_at", "claimed_at"
        )
        received = {pk: at for pk, at, _ in stamps}
        claimed = {pk: at for pk, _, at in stamps}
    committed = {seq: announced[i] for seq, i in line_of.items() if i in announced}
    parts: dict[str, list[float]] = {
        "POST -> committed (answer)": [],
        "  of which in the sender's queue": [],
        "  of which to the receiver's view (-> received_at)": [],
        "  of which storing, answering (-> answer)": [],
        "committed -> processed (NOTIFY)": [],
        "  of which queued (-> claimed_at)": [],
        "  of which processing (-> NOTIFY)": [],
        "processed -> arrival": [],
    }
    for seq, answered in r["answered"].items():
        parts["POST -> committed (answer)"].append(answered - r["posted"][seq])
        parts["  of which in the sender's queue"].append(r["sent"][seq] - r["posted"][seq])
        if received.get(source.get(seq)):
            received_at = received[source[seq]].timestamp()
            to_view = received_at - r["sent"][seq]
            parts["  of which to the receiver's view (-> received_at)"].append(to_view)
            parts["  of which storing, answering (-> answer)"].append(answered - received_at)
        if seq in committed:
            parts["committed -> processed (NOTIFY)"].append(committed[seq] - answered)
            if claimed.get(source[seq]):
                claimed_at = claimed[source[seq]].timestamp()
                parts["  of which queued (-> claimed_at)"].append(claimed_at - answered)
                parts["  of which processing (-> NOTIFY)"].append(committed[seq] - claimed_at)
    for seq, arrived in r["arrivals"]:
        if seq in committed:
            parts["processed -> arrival"].append(arrived - committed[seq])
    return parts


def report(name: str, r: dict) -> None:
    print(
        f"  {name:9s} {r['subscribers']:4d} subscribers, {r['deliveries']} deliveries at "
        f"{r['rate']}/s: p50 {r['p50']:6.0f} ms  p95 {r['p95']:6.0f} ms  p99 {r['p99']:6.0f} ms"
        f"  (mean {r['mean']:.0f} ms; {r['arrived']} arrivals, {r['missed']} missed, "
        f"{r['non_2xx']} non-2xx POSTs)"
    )
    print(
        f"            cross-organization leaks: {r['leaks']}   memory per open stream: "
        f"{r['rss_per_stream_kb']:.0f} KiB   database sessions with streams open: "
        f"{r['db_sessions']}   load average: " + " ".join(f"{x:.2f}" for x in r["load"])
    )
    for part, values in r.get("breakdown", {}).items():
        print(f"            {part:50s} {percentiles(values)}")


def use_uvloop() -> str:
    """The subscribers read 5,000 lines a second on a 2-core machine: with asyncio's own loop
    the client's lag showed up as server latency. uvloop when installed (it serves too)."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn (uvicorn) workers")
    parser.add_argument(
        "--db-pool-max-size",
        help="DB_POOL_MAX_SIZE for the web workers (0 = no pool; default: gunicorn.conf.py's)",
    )
    parser.add_argument("--conn-max-age", help="CONN_MAX_AGE for the web workers without a pool")
    parser.add_argument(
        "--posts-in-flight",
        type=int,
        default=POSTS_IN_FLIGHT,
        help="the sender's concurrent POSTs in the measured phase (its connection pool)",
    )
    parser.add_argument(
        "--worker-class",
        default="uvicorn_worker.UvicornWorker",
        help="gunicorn worker class (uvicorn_worker.UvicornH11Worker: pure-Python HTTP and loop)",
    )
    args = parser.parse_args()
    client_loop = use_uvloop()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    with throwaway_database("bench_feed") as database_url:
        setup_django(database_url)
        database_name = database_url.rsplit("/", 1)[1]
        setup = prepare()
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        port = free_port()
        web_env = {
            name: value
            for name, value in (
                ("DB_POOL_MAX_SIZE", args.db_pool_max_size),
                ("CONN_MAX_AGE", args.conn_max_age),
            )
            if value is not None
        }
        web, worker = start(database_url, port, args.workers, web_env, args.worker_class)
        try:
            time.sleep(3)  # the worker connects to the broker
            with Announcements(database_url) as announcements:
                baseline = asyncio.run(
                    phase(port, setup, subscribers=2, rate=5, seconds=5, first_seq=1,
                          web_pid=web.pid, database_name=database_name)
                )  # fmt: skip
                measured = asyncio.run(
                    phase(port, setup, subscribers=args.subscribers, rate=args.rate,
                          seconds=args.seconds, first_seq=100_000, web_pid=web.pid,
                          database_name=database_name, posts_in_flight=args.posts_in_flight)
                )  # fmt: skip
            for result in (baseline, measured):
                result["breakdown"] = breakdown(result, announcements.at)
        finally:
            for process in (web, worker):
                process.terminate()
            for process in (web, worker):
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            redis.Redis.from_url(REDIS_URL).flushdb()
            from django.db import connections

            connections.close_all()
    pool = args.db_pool_max_size or "gunicorn.conf.py's"
    print(
        f"gunicorn {args.workers} workers {args.worker_class} (DB_POOL_MAX_SIZE {pool}, CONN_MAX_AGE "
        f"{args.conn_max_age or 'default'}), Celery worker concurrency 2, Redis broker, "
        f"client loop {client_loop}, {args.posts_in_flight} POSTs in flight"
    )
    report("baseline", baseline)
    report("measured", measured)
    ok = measured["p95"] < 1000 and measured["leaks"] == 0 and baseline["leaks"] == 0
    print(
        f"  goals: p95 < 1 s {'met' if measured['p95'] < 1000 else 'NOT met'}, "
        f"no cross-organization line {'yes' if measured['leaks'] == 0 else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
