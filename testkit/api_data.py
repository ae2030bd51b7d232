"""A small, exact two-organization dataset for the API tests: counts a test can assert.

Organization A, organization B and the shared workspace (organization NULL), each with
campaigns (10 days of figures), mailboxes, contacts, leads, threads, outbound and inbound
messages, and webhook events, written with bulk inserts because many tests build it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from accounts.tenancy import staff_scope
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    Lead,
    LeadStatus,
)
from instantly.models import WebhookEvent
from messaging.models import Message, Thread

DAY = dt.date(2026, 11, 10)  # the last day with figures


@dataclass
class Dataset:
    """What `build_dataset` made, per key "a", "b" and "shared" (organization NULL)."""

    campaigns: dict = field(default_factory=dict)
    mailboxes: dict = field(default_factory=dict)
    contacts: dict = field(default_factory=dict)
    leads: dict = field(default_factory=dict)
    threads: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)


REPLIES = (
    ("Re: pipeline", "Pricing looks interesting, can you send the calendar link?", "interested"),
    ("Re: pipeline", "Please unsubscribe me from this list.", "not_interested"),
    ("Out of office", "I am out of the office until Monday with limited access.", "out_of_office"),
)


def build_dataset(org_a, org_b, connection) -> Dataset:
    """Two organizations and the shared workspace, each with campaigns (10 days of figures),
    mailboxes, contacts, leads, threads, outbound and inbound messages, and webhook events.

    Organization A has 3 campaigns (active, paused, completed), 10 contacts, 30 leads and
    threads and 39 messages; B has 2 campaigns and 26 messages. A's campaigns also send from a
    shared mailbox, which A may therefore read.
    """
    data = Dataset()
    statuses = (CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.COMPLETED)
    at = lambda day, hour=9: dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)  # noqa: E731
    with staff_scope():  # bulk inserts: the suite builds this for many tests
        shared_box = EmailAccount.objects.create(
            organization=None,
            connection_id=connection.pk,
            email="pool@agency-mail.io",
            daily_limit=40,
        )
        for key, org, n_campaigns in (("a", org_a, 3), ("b", org_b, 2), ("shared", None, 1)):
            box = EmailAccount.objects.create(
                organization=org, connection_id=connection.pk, email=f"sender-{key}@mail.io",
                daily_limit=50,
            )  # fmt: skip
            data.mailboxes[key] = [box]
            EmailAccountDailyStat.objects.create(
                organization=org, email_account=box, date=DAY, sent=30, bounced=1, replied=2
            )
            campaigns = Campaign.objects.bulk_create(
                Campaign(
                    organization=org, connection_id=connection.pk, instantly_id=f"cmp-{key}-{c}",
                    name=f"Campaign {key.upper()}{c}", status=statuses[c % 3],
                )
                for c in range(n_campaigns)
            )  # fmt: skip
            data.campaigns[key] = campaigns
            senders = [box, shared_box] if key == "a" else [box]
            CampaignSender.objects.bulk_create(
                CampaignSender(organization=org, campaign=c, email_account=m)
                for c in campaigns
                for m in senders
            )
            CampaignDailyStat.objects.bulk_create(
                CampaignDailyStat(
                    organization=org, campaign=c, date=DAY - dt.timedelta(days=d), sent=100,
                    unique_opened=40, unique_clicked=5, unique_replied=4, replied=5, bounced=2,
                )
                for c in campaigns
                for d in range(10)
            )  # fmt: skip
            n_contacts = 10 if key != "shared" else 2
            contacts = Contact.objects.bulk_create(
                Contact(
                    organization=org, email=f"lead{p}-{key}@prospect.io", first_name=f"Lead{p}",
                    company_name=f"Prospect {p % 3}",
                )
                for p in range(n_contacts)
            )  # fmt: skip
            data.contacts[key] = contacts
            pairs = [(c, p, contact) for c in campaigns for p, contact in enumerate(contacts)]
            leads = Lead.objects.bulk_create(
                Lead(
                    organization=org, campaign=c, contact=contact,
                    status=LeadStatus.ACTIVE if p % 2 else LeadStatus.COMPLETED,
                    interest_status=REPLIES[p][2] if p < 3 else "", last_activity_at=at(1 + p),
                )
                for c, p, contact in pairs
            )  # fmt: skip
            data.leads[key] = leads
            threads = Thread.objects.bulk_create(
                Thread(
                    organization=org, campaign=c, contact=contact, lead=lead,
                    subject="Quick question about your pipeline", has_reply=p < 3,
                    is_unread=p < 3, message_count=2 if p < 3 else 1,
                    last_message_at=at(2 + p), last_inbound_at=at(2 + p) if p < 3 else None,
                )
                for (c, p, contact), lead in zip(pairs, leads, strict=True)
            )  # fmt: skip
            data.threads[key] = threads
            messages = []
            for (c, p, contact), thread in zip(pairs, threads, strict=True):
                messages.append(
                    Message(
                        organization=org, thread=thread, campaign=c, contact=contact,
                        email_account=box, direction=Message.Direction.OUTBOUND,
                        kind=Message.Kind.CAMPAIGN, subject=thread.subject,
                        body_text="Hi, could our outbound engine help your sales pipeline?",
                        sent_at=at(1 + p),
                    )
                )  # fmt: skip
                if p < 3:
                    messages.append(
                        Message(
                            organization=org, thread=thread, campaign=c, contact=contact,
                            email_account=box, direction=Message.Direction.INBOUND,
                            kind=Message.Kind.REPLY, subject=REPLIES[p][0],
                            body_text=REPLIES[p][1], is_unread=True, sent_at=at(2 + p),
                            instantly_email_id=f"em-{key}-{thread.pk}",
                            from_email=contact.email, to_email=box.email,
                        )
                    )  # fmt: skip
            data.messages[key] = Message.objects.bulk_create(messages)
            data.events[key] = WebhookEvent.objects.bulk_create(
                WebhookEvent(
                    organization=org, connection=connection, payload={"n": n},
                    event_type="reply_received", dedupe_key=f"{key}-{n}", status=status,
                )
                for n, status in enumerate(
                    (WebhookEvent.Status.FAILED, WebhookEvent.Status.PROCESSED)
                )
            )  # fmt: skip
    data.mailboxes["pool"] = shared_box
    return data
