"""One builder per row a test needs: connection, campaign, contact, thread, message, webhook event.

Each writes under `staff_scope()`, so a test can build rows of any organization (or of the
shared workspace, organization NULL) before it acts as a persona. Defaults are the dullest valid
row; a test names what it is about.
"""

from __future__ import annotations

import datetime as dt

from accounts.tenancy import staff_scope
from campaigns.models import Campaign, Contact
from instantly.models import ProviderConnection, WebhookEvent
from messaging.models import FeedEvent, Message, Notification, Thread

SHARED_API_KEY = "test-shared-key-0000"  # the shared connection's key: no page may show it
SENT_AT = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)


def make_connection(
    name, *, organization=None, api_key="test-key-0000", with_secret=False, **fields
):
    """A provider connection (an Instantly workspace), its key encrypted as the console does;
    with `with_secret`, answers (connection, its webhook secret in clear)."""
    with staff_scope():
        connection = ProviderConnection(name=name, organization=organization, **fields)
        connection.api_key = api_key
        secret = connection.set_new_webhook_secret()
        connection.save()
    return (connection, secret) if with_secret else connection


def make_shared_connection():
    """The agency's shared workspace ("Agency workspace", key SHARED_API_KEY), made once."""
    with staff_scope():
        existing = ProviderConnection.objects.unscoped().filter(is_shared=True).first()
    if existing is not None:
        return existing
    return make_connection(
        "Agency workspace", is_shared=True, workspace_id="ws-shared", api_key=SHARED_API_KEY
    )


def make_campaign(connection, instantly_id, *, organization=None, **fields):
    """A campaign of `connection`, in `organization` (None: the shared pool, staff only)."""
    with staff_scope():
        return Campaign.objects.create(
            organization=organization,
            connection_id=connection.pk,
            instantly_id=instantly_id,
            **fields,
        )


def make_contact(email, *, organization=None, **fields):
    """A contact (a person the agency writes to), once per organization."""
    with staff_scope():
        return Contact.objects.create(organization=organization, email=email, **fields)


def _default(fields: dict, relation: str, pk) -> None:
    """Set a foreign key unless the caller gave it as an object or as an id."""
    if relation not in fields and f"{relation}_id" not in fields:
        fields[f"{relation}_id"] = pk


def make_thread(campaign, contact, **fields):
    """A conversation with `contact` in `campaign`, in the campaign's organization."""
    _default(fields, "organization", campaign.organization_id)
    with staff_scope():
        return Thread.objects.create(campaign=campaign, contact=contact, **fields)


def make_message(thread, **fields):
    """A message in `thread` (an outbound campaign email unless told otherwise)."""
    _default(fields, "organization", thread.organization_id)
    _default(fields, "campaign", thread.campaign_id)
    _default(fields, "contact", thread.contact_id)
    fields.setdefault("direction", Message.Direction.OUTBOUND)
    fields.setdefault("kind", Message.Kind.CAMPAIGN)
    fields.setdefault("sent_at", SENT_AT)
    with staff_scope():
        return Message.objects.create(thread=thread, **fields)


def make_webhook_event(
    connection,
    dedupe_key,
    status=WebhookEvent.Status.PENDING,
    *,
    event_type="replied",
    event_type_raw="reply_received",
    **fields,
):
    """A stored webhook delivery of `connection` in `status` (a reply unless told otherwise)."""
    fields.setdefault("payload", {"event_type": event_type_raw})
    with staff_scope():
        return WebhookEvent.objects.create(
            connection=connection,
            dedupe_key=dedupe_key,
            status=status,
            event_type=event_type,
            event_type_raw=event_type_raw,
            **fields,
        )


def make_tenant_rows(org_a, org_b, connection) -> dict:
    """One campaign with a contact, a thread and a message in org A, in org B and shared (None),
    by key "a", "b" and "shared"."""
    rows = {}
    for key, org in (("a", org_a), ("b", org_b), ("shared", None)):
        campaign = make_campaign(connection, f"cmp-{key}", organization=org, name=f"Campaign {key}")
        contact = make_contact(f"lead-{key}@example.com", organization=org)
        thread = make_thread(campaign, contact, organization=org, subject=f"Hello {key}")
        message = make_message(
            thread,
            organization=org,
            campaign=campaign,
            contact=contact,
            subject=f"Hello {key}",
            body_text="Quick question about your pipeline",
            sent_at="2026-11-01T10:00:00Z",
        )
        rows[key] = {"campaign": campaign, "contact": contact, "thread": thread, "message": message}
    return rows


def make_notification(organization, kind=Notification.Kind.LEAD_INTERESTED, **fields):
    """A notification of `organization` (title "Lead interested" unless given)."""
    fields.setdefault("title", "Lead interested")
    with staff_scope():
        return Notification.objects.create(organization=organization, kind=kind, **fields)


def make_feed_event(organization, kind=FeedEvent.Kind.REPLY, **fields):
    """A live-feed line of `organization`; committing it announces it to open streams."""
    fields.setdefault("title", "Reply from a lead")
    fields.setdefault("occurred_at", SENT_AT)
    with staff_scope():
        return FeedEvent.objects.create(organization=organization, kind=kind, **fields)
