"""Benchmark: API latency as a customer, at 1,000,000 messages (or 5,000,000 with --large).

    .venv/bin/python bench/api_latency.py [--requests N] [--keep] [--reuse] [--db NAME] [--explain]
        [--large] [--before-requests N]

Creates its own database beside DATABASE_URL's (owner role, default root@127.0.0.1:5432),
migrates it with `manage.py migrate`, and loads as the owner, in SQL (INSERT ... SELECT
generate_series): 100 organizations, 5,000 campaigns (50 each) with 90 days of daily figures,
200,000 contacts and as many leads and threads, and 1,000,000 messages (5 per thread) whose
bodies are drawn from an email vocabulary with a Zipf-like skew, so full-text search meets
common words ("thanks": most messages) and rarer ones ("budget": a few percent).

Then, as a customer of one organization authenticating with an API token, it requests each
endpoint N times through the whole Django stack in-process (middleware, tenant scope and
row-level security, DRF, serializers; no network) and prints p50 / p95 / max in milliseconds:
campaign list, campaign stats, message list of a campaign, organization stats, message search.
Goal: p95 < 50 ms for lists and stats, < 100 ms for search. The database is dropped at the end
unless --keep (--reuse skips creating and loading a database kept earlier).

--large: 5,000,000 messages, 1,000,000 of them in the customer's organization (org-042: 200,000
threads; the 99 others share the rest). Then a staff run too: an sb_operator's token, lists and
search over every organization (search goal p95 < 200 ms). Beside each search it measures the
search as it was before the indexed path (`indexed=False`: the text match under row-level
security), with --before-requests requests, as the baseline of the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.test.utils import override_settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORGS, CAMPAIGNS_PER_ORG, CONTACTS_PER_ORG, MESSAGES_PER_THREAD, DAYS = 100, 50, 2000, 5, 90
# --large: the customer's organization holds 1,000,000 of 5,000,000 messages.
CUSTOMER_SLUG, LARGE_CUSTOMER_CONTACTS, LARGE_OTHER_CONTACTS = "org-042", 200_000, 8_081
# Most common first: word k of n is drawn with probability ~ (k/n)^(1/SKEW - 1), a Zipf-like
# tail, so "thanks" is in most messages and "budget" in a few percent, as in real email.
SKEW = 2.5
VOCABULARY = """
the you to and a for your of we is in it on this that with can be our are have hi thanks
team would like about if next week time call quick question help sales happy best regards
looking forward meeting reply following up follow reach out outbound pipeline growth revenue
customers results campaign leads inbox calendar link demo interested great works friday
monday tuesday thursday morning afternoon month process tools integration onboarding pricing
price budget approved quarter contract trial pilot seats discount annual plan hubspot
salesforce deliverability booked slot office until limited access urgent manager colleague
right person head marketing operations founder ceo cto director remove list unsubscribe
""".split()
SEARCHES = ["pricing", "calendar demo", "budget approved", '"next quarter"', "thanks"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use a kept, loaded database")
    parser.add_argument("--db", default="bench_api_latency", help="database name")
    parser.add_argument("--explain", action="store_true", help="print query plans")
    parser.add_argument("--large", action="store_true", help="5M messages, 1M in one org")
    parser.add_argument(
        "--before-requests", type=int, default=20, help="requests per search, old path"
    )
    return parser.parse_args()


def owner_url(database: str) -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://root@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{database}"))


def psql(database: str, autocommit: bool = True):
    import psycopg

    url = owner_url(database).replace("postgres://", "postgresql://", 1)
    return psycopg.connect(url, autocommit=autocommit)


# --- database life cycle ------------------------------------------------------------------------


def create_and_migrate(name: str) -> None:
    with psql("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": owner_url(name)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip


def drop(name: str) -> None:
    from django.db import connections

    for conn in connections.all():
        conn.close()
    with psql("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_environment() -> None:
    """Settings for this process and for `manage.py migrate` (DEBUG off, throwaway secrets)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbrain.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "0"  # Django would keep every query in memory
    os.environ["SECURE_SSL_REDIRECT"] = "0"  # in-process plain HTTP, no TLS proxy
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # Django's test client
    os.environ.setdefault("APP_DB_PASSWORD", "salesbrain_app")  # the role `migrate` creates
    os.environ.setdefault("SECRET_KEY", "bench-only-" + uuid.uuid4().hex)
    if not os.environ.get("SECRETS_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["SECRETS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()


def setup_django(name: str) -> None:
    os.environ["DATABASE_URL"] = owner_url(name)
    import django

    django.setup()


# --- loading ------------------------------------------------------------------------------------


def shared_connection_id():
    from accounts.tenancy import staff_scope
    from instantly.models import ProviderConnection

    with staff_scope():
        conn = ProviderConnection.objects.unscoped().filter(is_shared=True).first()
        if conn is None:
            conn = ProviderConnection(name="Agency workspace", is_shared=True, workspace_id="ws")
            conn.api_key = "bench-key-0000"
            conn.save()
    return conn.pk


def step(label: str, conn, sql: str, params=None) -> None:
    started = time.perf_counter()
    cursor = conn.execute(sql, params)
    rows = cursor.rowcount
    print(f"  {label:<44} {rows:>9} rows  {time.perf_counter() - started:6.1f} s", flush=True)


def load(name: str, large: bool = False) -> None:
    from campaigns.daily_totals import REBUILD_SQL

    connection_id = shared_connection_id()
    load_started = time.perf_counter()
    # Contacts (so leads, threads, five messages each) per organization.
    if large:
        per_org = [CUSTOMER_SLUG, LARGE_CUSTOMER_CONTACTS, LARGE_OTHER_CONTACTS]
    else:
        per_org = [CUSTOMER_SLUG, CONTACTS_PER_ORG, CONTACTS_PER_ORG]
    with psql(name) as conn:
        # Bulk load: foreign keys are consistent by construction; indexes built once, after.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '1GB'")
        indexes = conn.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
               WHERE t.relname IN ('messaging_message', 'messaging_thread', 'campaigns_lead')
                 AND NOT x.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"""
        ).fetchall()
        for index_name, _definition in indexes:
            conn.execute(f'DROP INDEX "{index_name}"')
        step(
            "organizations", conn,
            """INSERT INTO accounts_organization (id, name, slug, created_at)
               SELECT gen_random_uuid(), 'Organization ' || g, 'org-' || lpad(g::text, 3, '0'),
                      now() FROM generate_series(1, %s) g""",
            [ORGS],
        )  # fmt: skip
        conn.execute(
            """CREATE TEMP TABLE b_org AS SELECT id, slug, row_number() OVER (ORDER BY slug) AS n
               FROM accounts_organization"""
        )
        step(
            "campaigns", conn,
            """INSERT INTO campaigns_campaign (id, organization_id, connection_id, instantly_id,
                   name, status, schedule, sequences, sender_emails, analytics, raw,
                   is_placeholder, created_at, updated_at, analytics_overview,
                   not_sending_status)
               SELECT gen_random_uuid(), o.id, %s, 'cmp-' || o.n || '-' || c,
                      'Campaign ' || c || ' of ' || o.n,
                      (ARRAY['active', 'paused', 'completed', 'draft'])[1 + c %% 4],
                      '{}', '[]', '[]', '{}', '{}', false, now(), now(), '{}', ''
               FROM b_org o, generate_series(1, %s) c""",
            [connection_id, CAMPAIGNS_PER_ORG],
        )  # fmt: skip
        conn.execute(
            """CREATE TEMP TABLE b_campaign AS SELECT id, organization_id,
                   row_number() OVER (PARTITION BY organization_id ORDER BY instantly_id) AS k
               FROM campaigns_campaign"""
        )
        step(
            "campaign daily figures", conn,
            """INSERT INTO campaigns_campaigndailystat (organization_id, campaign_id, date, sent,
                   contacted, opened, unique_opened, clicked, unique_clicked, replied,
                   unique_replied, auto_replied, bounced, unsubscribed, interested,
                   meetings_booked, opportunities)
               SELECT c.organization_id, c.id, current_date - d, s, s * 9 / 10, s / 2,
                      s * 2 / 5, s / 20, s / 25, s / 30, s / 35, s / 100, s / 50, s / 200,
                      s / 150, s / 300, s / 250
               FROM b_campaign c, generate_series(0, %s - 1) d,
                    LATERAL (SELECT (40 + random() * 80 + d * 0)::int AS s) r""",
            [DAYS],
        )  # fmt: skip
        # Triggers are off (replica): the organizations' daily ledger is filled as rebuild() does.
        step("organization daily ledger", conn, REBUILD_SQL)
        step(
            "contacts", conn,
            """INSERT INTO campaigns_contact (organization_id, email, first_name, last_name,
                   company_name, custom_variables, last_activity_at, created_at, updated_at)
               SELECT o.id, 'person' || p || '@company' || (p %% 700) || '.example',
                      'First' || p, 'Last' || p, 'Company ' || (p %% 700), '{}',
                      now() - (p %% 90) * interval '1 day', now(), now()
               FROM b_org o,
                    generate_series(1, CASE WHEN o.slug = %s THEN %s ELSE %s END) p""",
            per_org,
        )  # fmt: skip
        step(
            "leads", conn,
            """INSERT INTO campaigns_lead (organization_id, campaign_id, contact_id, instantly_id,
                   status, interest_status, interest_label, last_activity_at, raw, created_at,
                   updated_at, do_not_contact, proposed_interest_status, score, score_counts,
                   score_value)
               SELECT ct.organization_id, c.id, ct.id, '',
                      (ARRAY['active', 'completed', 'bounced', 'paused'])[1 + ct.p %% 4],
                      (ARRAY['', '', '', 'interested', 'not_interested', 'out_of_office'])
                          [1 + ct.p %% 6],
                      '', ct.last_activity_at, '{}', now(), now(), false, '', 0, '{}', 0
               FROM (SELECT *, row_number() OVER (PARTITION BY organization_id ORDER BY id) AS p
                     FROM campaigns_contact) ct
               JOIN b_campaign c ON c.organization_id = ct.organization_id
                                AND c.k = 1 + ct.p %% %s""",
            [CAMPAIGNS_PER_ORG],
        )  # fmt: skip
        step(
            "threads", conn,
            """INSERT INTO messaging_thread (organization_id, campaign_id, contact_id, lead_id,
                   instantly_thread_id, subject, message_count, has_reply, is_unread,
                   last_message_at, last_inbound_at, created_at, updated_at, category)
               SELECT l.organization_id, l.campaign_id, l.contact_id, l.id, '',
                      'Quick question about your pipeline', %s, l.id %% 3 = 0, l.id %% 9 = 0,
                      now() - (l.id %% 80) * interval '1 day',
                      CASE WHEN l.id %% 3 = 0 THEN now() - (l.id %% 80) * interval '1 day' END,
                      now(), now(), ''
               FROM campaigns_lead l""",
            [MESSAGES_PER_THREAD],
        )  # fmt: skip
        step(
            "messages", conn,
            """INSERT INTO messaging_message (organization_id, thread_id, campaign_id, contact_id,
                   direction, kind, instantly_email_id, subject, body_text, body_html, snippet,
                   from_email, to_email, step, variant, sent_at, is_unread, raw, created_at,
                   failure_reason, idempotency_key, status, category, category_source)
               SELECT t.organization_id, t.id, t.campaign_id, t.contact_id,
                      CASE WHEN m <= 3 THEN 'outbound' ELSE 'inbound' END,
                      CASE WHEN m <= 3 THEN 'campaign' ELSE 'reply' END, '',
                      CASE WHEN m = 1 THEN t.subject ELSE 'Re: ' || t.subject END,
                      b.body, '', left(b.body, 120), 'sender@agency.example',
                      'person@company.example', m, 1,
                      t.last_message_at - (%s - m) * interval '2 days',
                      m > 3 AND t.is_unread, '{}', now(), '', '', '', '', ''
               FROM messaging_thread t, generate_series(1, %s) m,
                    LATERAL (SELECT string_agg(v.w[1 + floor(v.n * random() ^ %s)::int], ' ')
                                        AS body
                             FROM (SELECT %s::text[] AS w, %s AS n) v,
                                  generate_series(1, 18 + (t.id + m) %% 25)) b""",
            [MESSAGES_PER_THREAD, MESSAGES_PER_THREAD, SKEW, VOCABULARY, len(VOCABULARY)],
        )  # fmt: skip
        for index_name, definition in indexes:
            started = time.perf_counter()
            conn.execute(definition)
            print(f"  index {index_name:<38} {time.perf_counter() - started:6.1f} s", flush=True)
        conn.execute("SET session_replication_role = origin")
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  {'vacuum analyze':<44} {'':>9}       {time.perf_counter() - started:6.1f} s")
    total = time.perf_counter() - load_started
    print(f"  {'generation in all':<44} {'':>9}       {total:6.1f} s  load {load_text()}")


def store_scope_key() -> None:
    """A kept database signed scopes with an earlier run's throwaway SECRET_KEY: store this
    run's (as `migrate` does), or every scope would verify as empty and see nothing."""
    from django.db import connection

    from accounts.db import as_owner
    from accounts.rls import store_scope_key as store

    with as_owner(), connection.cursor() as cursor:
        store(cursor)


def load_text() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f} (1/5 min) on {os.cpu_count()} CPUs"


def staff_token() -> str:
    """An agency operator (sb_operator, every organization) and a personal API token of theirs."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.api_tokens import ApiToken
    from accounts.roles import SB_OPERATOR

    user, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get_or_create(name=SB_OPERATOR)[0])
    _token, key = ApiToken.issue(user, "bench")
    return key


def customer_token(org_slug: str = CUSTOMER_SLUG) -> tuple[str, object]:
    """An owner of one organization, and a personal API token of theirs."""
    from django.contrib.auth import get_user_model

    from accounts.api_tokens import ApiToken
    from accounts.models import Membership, Organization

    org = Organization.objects.get(slug=org_slug)
    user, _ = get_user_model().objects.get_or_create(username=f"bench-{org_slug}")
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "owner"})
    _token, key = ApiToken.issue(user, "bench")
    return key, org


# --- measuring ----------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class QueryTimer:
    """Sums the time spent in database calls (round trips included) during a request."""

    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.total += time.perf_counter() - started


def measure(client, label: str, urls: list[str], n: int) -> tuple[str, dict, str]:
    """Wall time per request, and what it was spent on: this process's CPU (Django, DRF) and
    database calls. On a busy machine wall > cpu + db: the rest is waiting for a CPU."""
    from django.db import connection

    for url in urls[:5]:  # warm-up: connection, caches
        assert client.get(url).status_code == 200, (url, client.get(url).content[:300])
    samples = {"wall": [], "cpu": [], "db": []}
    for i in range(n):
        url = urls[i % len(urls)]
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            cpu, started = time.process_time(), time.perf_counter()
            response = client.get(url)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert response.status_code == 200, (url, response.status_code)
        samples["wall"].append(wall * 1000)
        samples["cpu"].append(cpu * 1000)
        samples["db"].append(timer.total * 1000)
    return label, samples, load_text().split(" (")[0]


def explain(org) -> None:
    """The plans of the heaviest queries, as the application role sees them (RLS included)."""
    from accounts.tenancy import tenant_scope
    from campaigns.models import Campaign
    from messaging.api import LIST_DEFERRED
    from messaging.models import Message
    from messaging.search import search_messages

    with tenant_scope(org.pk):
        campaign = Campaign.objects.order_by("name").first()
        queries = {
            "search": search_messages(Message.objects.all(), "pricing")
            .defer(*LIST_DEFERRED)
            .order_by("-rank", "-sent_at", "-id")[:50],
            "campaign messages": Message.objects.filter(campaign=campaign)
            .defer(*LIST_DEFERRED)
            .order_by("-sent_at", "-id")[:50],
        }
        for name, qs in queries.items():
            print(f"\n--- {name}\n{qs.explain(analyze=True, buffers=True)}")


def run(args) -> None:
    from django.test import Client

    key, org = customer_token()
    from accounts.tenancy import tenant_scope
    from campaigns.models import Campaign
    from messaging.models import Message

    with tenant_scope(org.pk):
        campaigns = [str(pk) for pk in Campaign.objects.values_list("pk", flat=True)]
        counts = {
            "campaigns": len(campaigns),
            "messages": Message.objects.count(),
        }
    with psql(args.db) as conn:
        totals = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in (
                "accounts_organization", "campaigns_campaign", "campaigns_contact",
                "messaging_message", "campaigns_campaigndailystat",
            )
        }  # fmt: skip
    print(f"\nDatabase: {totals}")
    print(f"Customer: {org.name} ({counts['campaigns']} campaigns, {counts['messages']} messages)")
    if args.explain:
        explain(org)

    from django.conf import settings

    rates = {"anon": None, "user": None, "token": None, "sync": None}
    n, before_n = args.requests, args.before_requests
    searches = [f"/api/v1/messages/search/?q={q}" for q in SEARCHES]
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        results = [
            # Control: the fixed cost of a request (token, tenant scope, DRF), nothing else.
            measure(client, "(baseline: GET /api/v1/me/)", ["/api/v1/me/"], n),
            # The same without the per-process auth cache (token, memberships, staff groups
            # looked up on every request, as before accounts.auth_cache).
            measure_uncached(client, n),
            measure(client, "campaign list", ["/api/v1/campaigns/"], n),
            measure(
                client, "campaign stats", [f"/api/v1/campaigns/{c}/stats/" for c in campaigns], n
            ),
            measure(
                client, "message list of a campaign",
                [f"/api/instantly/campaign/{c}/messages" for c in campaigns], n,
            ),
            measure(client, "organization stats", ["/api/v1/stats/"], n),
            measure(client, "message search", searches, n),
        ]  # fmt: skip
        if before_n:
            with unindexed_search():
                results.append(measure(client, "(before) message search", searches, before_n))
        report(f"Customer of {org.name}", results, search_goal=100)
        if not args.large:
            return
        staff = Client(HTTP_AUTHORIZATION=f"Token {staff_token()}")
        results = [
            measure(staff, "(baseline: GET /api/v1/me/)", ["/api/v1/me/"], n),
            measure(staff, "campaign list", ["/api/v1/campaigns/"], n),
            measure(staff, "organization stats", ["/api/v1/stats/"], n),
            measure(staff, "message list", ["/api/v1/messages/"], n),
            measure(staff, "message search", searches, n),
        ]
        if before_n:
            with unindexed_search():
                results.append(measure(staff, "(before) message search", searches, before_n))
        report("Staff (sb_operator, every organization)", results, search_goal=200)


def measure_uncached(client, n: int):
    from accounts import auth_cache

    with override_settings(API_AUTH_CACHE_SECONDS=0):
        auth_cache.clear()
        return measure(client, "(before) GET /api/v1/me/", ["/api/v1/me/"], n)


@contextmanager
def unindexed_search():
    """The search as it was before the indexed path: the text match under RLS (the baseline)."""
    from messaging import filters, search

    original = search.search_messages
    filters.search.search_messages = lambda *a, **kw: original(*a, **{**kw, "indexed": False})
    try:
        yield
    finally:
        filters.search.search_messages = original


def report(title: str, results, search_goal: int) -> None:
    print(f"\n{title}; load average (1/5 min) beside each row, {os.cpu_count()} CPUs")
    print(
        f"{'endpoint':<30} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  {'goal (p95)':<14}"
        f"{'p50 cpu':>8} {'p50 db':>7}  load"
    )
    for label, samples, load in results:
        wall = samples["wall"]
        goal = search_goal if label.endswith("message search") else 50
        p95 = percentile(wall, 95)
        verdict = "" if label.startswith("(") else f"< {goal} " + ("ok" if p95 < goal else "MISSED")
        print(
            f"{label:<30} {statistics.median(wall):7.1f} {p95:7.1f} {max(wall):7.1f}  "
            f"{verdict:<14}{statistics.median(samples['cpu']):8.1f}"
            f"{statistics.median(samples['db']):8.1f}  {load}"
        )


def main() -> None:
    args = parse_args()
    prepare_environment()
    if not args.reuse:
        print(f"Creating and migrating {args.db} ...", flush=True)
        create_and_migrate(args.db)
    setup_django(args.db)
    try:
        if not args.reuse:
            print("Loading (as the owner role) ...", flush=True)
            load(args.db, large=args.large)
        else:
            store_scope_key()
        run(args)
    finally:
        if args.keep or args.reuse:
            print(f"\nKept database {args.db} (drop it with: DROP DATABASE {args.db})")
        else:
            drop(args.db)
            print(f"\nDropped database {args.db}")


if __name__ == "__main__":
    main()
