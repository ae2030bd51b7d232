"""Demo data for `make run`, driven by the local Instantly sandbox.

The same path real data takes: a sync from the sandbox's API, staff assigning campaigns to the
two demo customers, the history backfill (the Unibox's emails and the campaigns' leads, so
inboxes and lead lists are full before any webhook arrives), then a few thousand webhook
deliveries stored and processed like live ones,
a few replies sent from the inbox's own service (so some threads show our answer), and a last
sync so Instantly's own figures win where both sources count (and its copies of those replies
merge into them).
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from accounts.tenancy import staff_scope, tenant_scope
from campaigns.assignment import assign_campaign
from campaigns.models import Campaign, InterestStatus
from instantly.connections import client_for, served_by
from instantly.models import BlocklistAction, ProviderConnection
from instantly.sandbox import SandboxApp, SandboxServer, SandboxWorkspace
from instantly.sandbox.webhooks import generate_deliveries
from instantly.sync.backfill import backfill_history
from instantly.sync.run import sync_workspace
from instantly.tasks import push_blocklist_actions
from instantly.webhooks.ingest import build_event
from instantly.webhooks.queue import drain
from messaging import delivery, replies
from messaging.models import Message, Notification, NotificationPreference, Thread

# The demo workspace; `manage.py instantly_sandbox serve` with these values serves the same one.
# 90 days of sending volume (50-300 emails a weekday per campaign, see sandbox.data.volume)
# on top of 40 detailed lead stories per campaign (the leads, Unibox and webhooks).
DEMO_WORKSPACE = {
    "seed": 7,
    "campaigns": 12,
    "accounts": 30,
    "leads_per_campaign": 40,
    "history_days": 90,
}
DEMO_DELIVERIES = 3000
# Threads per organization answered by its first member, through the portal's reply service.
DEMO_REPLIES = 3
DEMO_REPLY_TEXT = (
    "Hi {name},\n\nThanks for getting back to me. Would Tuesday or Thursday afternoon suit "
    "you for a 20-minute call? I will send an invite for whichever works.\n\nBest regards"
)
# Notifications emailed (console backend) to the opted-in demo user on every `make run`.
DEMO_EMAILED = 3
SANDBOX_API_KEY = "sandbox-key"


def demo_now() -> dt.datetime:
    """Today at midnight UTC: stable for a day, so a second `make run` adds nothing."""
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


def demo_workspace() -> SandboxWorkspace:
    return SandboxWorkspace(**DEMO_WORKSPACE, now=demo_now())


def _shared_connection() -> ProviderConnection:
    """The shared workspace connection (from INSTANTLY_API_KEY when `make run` set it)."""
    with staff_scope():
        conn = ProviderConnection.objects.filter(is_shared=True).first()
        if conn is None:
            conn = ProviderConnection(name="Agency workspace (sandbox)", is_shared=True)
            conn.api_key = SANDBOX_API_KEY
            conn.save()
    return conn


def load_demo_traffic(orgs, stdout=None) -> str:
    """Fill the database with the demo workspace; returns a one-paragraph summary."""
    if settings.INSTANTLY_API_KEY and settings.INSTANTLY_API_KEY != SANDBOX_API_KEY:
        # A real workspace is configured: never mix sandbox data into it.
        return (
            "INSTANTLY_API_KEY is set: sandbox demo data skipped (run `manage.py instantly_sync`)."
        )
    workspace = demo_workspace()
    provider = _shared_connection()
    # Every client made while the demo loads (the sync's, and those of services such as the
    # reply sender or the block-list push) talks to the sandbox, never to Instantly.
    # With the Unibox's own limit (20 requests a minute, 429 past it), as Instantly answers.
    sandbox = SandboxServer(SandboxApp(workspace, api_key=SANDBOX_API_KEY, emails_per_minute=20))
    with sandbox as server, served_by(server.base_url):
        client = client_for(provider)
        first = sync_workspace(provider, client=client, history=False)

        with staff_scope():
            campaigns = list(
                Campaign.objects.filter(
                    connection_id=provider.pk, vanished_at__isnull=True
                ).order_by("instantly_id")
            )
        # Staff's assignment: most campaigns to the two customers, two left unassigned.
        plan = {c.pk: orgs[i % len(orgs)] for i, c in enumerate(campaigns[:-2])}
        for campaign in campaigns:
            target = plan.get(campaign.pk)
            if campaign.organization_id != (target.pk if target else None):
                assign_campaign(campaign, target)
        # Then the history, as the next sync would do it: written straight into the
        # customers' organizations (moving it afterwards would only cost time).
        history = backfill_history(provider, client, leads=True)

        events = [
            build_event(provider, payload)
            for payload in generate_deliveries(workspace, DEMO_DELIVERIES, seed=7)
        ]
        with staff_scope():
            type(events[0]).objects.unscoped().bulk_create(events, ignore_conflicts=True)
        # One log line per event is right for live traffic, noise for a demo load.
        webhook_log = logging.getLogger("instantly.webhooks")
        level = webhook_log.level
        webhook_log.setLevel(logging.WARNING)
        try:
            report = drain()
        finally:
            webhook_log.setLevel(level)
        push_blocklist_actions(_pending_blocklist_actions())
        answered = sum(send_demo_replies(org) for org in orgs)
        last = sync_workspace(provider, client=client, full=True)
    refresh_planner_statistics()
    assigned = ", ".join(o.name for o in orgs)
    return "\n".join(
        [
            "Demo workspace synced from the Instantly sandbox:",
            first.summary(),
            _history_line(history),
            f"{len(plan)} campaigns assigned to {assigned}; {len(campaigns) - len(plan)} left "
            "unassigned for staff.",
            f"Webhook deliveries: {report.processed} processed, {report.failed} failed.",
            f"Replies sent from the inbox: {answered}.",
            f"Final sync: {last.requests} API request(s), {last.duration:.1f} s.",
        ]
    )


def _history_line(history) -> str:
    return (
        f"History backfilled before any webhook: {history.emails_written} Unibox email(s), "
        f"{history.leads_fetched} lead(s); the webhook traffic below merges into them."
    )


def _pending_blocklist_actions() -> list[int]:
    """Do-not-contact actions the demo's replies raised, pushed while the sandbox is up: their
    after-commit task may otherwise run once it has stopped, against the default address."""
    with staff_scope():
        pending = BlocklistAction.objects.unscoped().filter(status=BlocklistAction.Status.PENDING)
        return list(pending.values_list("pk", flat=True))


def send_demo_replies(organization, limit: int = DEMO_REPLIES) -> int:
    """Answer the newest replies of interested leads as the organization's first member would
    from a thread; answers how many went out. The same path as the portal (`messaging.replies`,
    Instantly's `POST /api/v2/emails/reply`), so the caller points it at the sandbox. A key per
    thread makes a second `make run` send nothing again."""
    member = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    if member is None:
        return 0
    sent = 0
    with tenant_scope(organization.pk):
        threads = (
            Thread.objects.filter(
                organization=organization,
                has_reply=True,
                lead__interest_status__in=[
                    InterestStatus.INTERESTED,
                    InterestStatus.MEETING_BOOKED,
                ],
            )
            .select_related("contact")
            .order_by("-last_inbound_at", "pk")[:limit]
        )
        for thread in threads:
            try:
                message, _ = replies.reply(
                    thread,
                    user=member.user,
                    body=DEMO_REPLY_TEXT.format(name=thread.contact.first_name or "there"),
                    idempotency_key=f"demo-reply-{thread.pk}",
                )
            except replies.CannotReply:
                continue
            sent += message.status == Message.Status.SENT
    return sent


def refresh_planner_statistics() -> None:
    """ANALYZE the freshly loaded tables, as the owner (the only role allowed to).

    Without statistics PostgreSQL takes every table for nearly empty and answers the inbox's
    per-thread lookups by scanning all of an organization's messages: on a fresh demo the
    search took 60-110 ms in the database instead of 2-3 ms. Autovacuum would catch up later,
    or never where it is off. A connection of its own, so a caller's transaction is untouched.
    """
    params = {
        **connection.get_connection_params(),
        "user": settings.DATABASE_OWNER["USER"],
        "password": settings.DATABASE_OWNER["PASSWORD"],
    }
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as owner:
        owner.execute("ANALYZE")


def email_latest_notifications(organization, user) -> int:
    """Opt `user` in to immediate emails and send the organization's latest few notifications
    again, so the console shows what a member receives. (The load's own deliveries went out
    before anyone had opted in: history is not worth hundreds of emails.)"""
    with staff_scope():
        NotificationPreference.objects.get_or_create(
            user=user,
            organization=organization,
            defaults={"email": NotificationPreference.Email.IMMEDIATE},
        )
        latest = Notification.objects.filter(organization=organization).order_by(
            "-created_at", "-pk"
        )
        ids = list(latest.values_list("pk", flat=True)[:DEMO_EMAILED])
        history = Notification.objects.filter(organization=organization, dispatched_at=None)
        history.exclude(pk__in=ids).update(dispatched_at=timezone.now())
        Notification.objects.filter(pk__in=ids).update(dispatched_at=None)
    return delivery.dispatch([organization.pk])["emails"]
