"""Realistic portal data for tests, timings and screenshots.

`build_org_dataset(org)` gives one organization what a real customer has after two months:
campaigns with daily figures over 60 days, per step and variant figures, contacts and leads,
reply threads with whole conversations, and the mailboxes that send for them (with
`CampaignSender` links and daily sends). Everything is written under `staff_scope()` with
bulk inserts, and drawn from a seeded random generator, so the same call builds the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    CampaignStepStat,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    InterestStatus,
    Lead,
    LeadStatus,
    MailboxStatus,
    MailProvider,
    WarmupStatus,
)
from messaging.models import Message, Thread
from testkit.rows import make_shared_connection

CAMPAIGN_NAMES = (
    ("SaaS founders EU – Q4", CampaignStatus.ACTIVE),
    ("Heads of Growth US", CampaignStatus.ACTIVE),
    ("Agency owners – referral angle", CampaignStatus.PAUSED),
    ("Series A CTOs – hiring signal", CampaignStatus.COMPLETED),
    ("E-commerce ops leaders", CampaignStatus.ACTIVE),
    ("Fintech compliance heads", CampaignStatus.ACCOUNTS_UNHEALTHY),
)
FIRST_NAMES = (
    "Emma", "Liam", "Sofia", "Noah", "Mia", "Lucas", "Hannah", "Elias", "Clara", "Jonas",
    "Olivia", "Mateo", "Lea", "Finn", "Amelia", "Oscar", "Nora", "Leon", "Ava", "Felix",
)  # fmt: skip
LAST_NAMES = (
    "Schneider", "Garcia", "Nguyen", "Johansson", "Rossi", "Dubois", "Kowalski", "Murphy",
    "Fischer", "Silva", "Jensen", "Novak", "Becker", "Laurent", "Costa", "Walsh",
)  # fmt: skip
COMPANIES = (
    "Northwind Labs", "Brightpath", "Kestrel Analytics", "Lumen Health", "Orbital Freight",
    "Pinecrest Software", "Quartz Payments", "Riverstone", "Solace HR", "Tandem Robotics",
    "Umbra Security", "Vantage Retail", "Willow Finance", "Zephyr Cloud",
)  # fmt: skip
# Subject lines as Instantly stores them (with its variables), per step and variant.
SEQUENCE_SUBJECTS = (
    ("Quick question about {{companyName}}'s pipeline", "{{firstName}}, idea for {{companyName}}"),
    ("Re: quick question",),
    ("Should I close your file?",),
)
THREAD_SUBJECTS = ("Quick question about {company}'s pipeline", "{first}, idea for {company}")
REPLIES = {
    InterestStatus.INTERESTED: (
        "Hi,\n\nThanks for reaching out – this is timely, we're reviewing our outbound setup "
        "this quarter. Could you send over two or three times next week?\n\nBest,\n{first}"
    ),
    InterestStatus.MEETING_BOOKED: (
        "Booked a slot for Thursday at 2pm through your link. Looking forward to it.\n\n{first}"
    ),
    InterestStatus.NOT_INTERESTED: (
        "Thanks, but we're not looking at this right now. Please take me off your list."
    ),
    InterestStatus.OUT_OF_OFFICE: (
        "I'm out of the office until Monday with limited access to email. For anything urgent "
        "please contact our office manager."
    ),
    InterestStatus.WRONG_PERSON: (
        "I'm not the right person for this – try our Head of Growth, Dana, she owns outbound."
    ),
    InterestStatus.NEUTRAL: (
        "What does pricing look like for a team of twelve? And do you integrate with HubSpot?"
    ),
}
ANSWER = (
    "Thanks {first}! Here is my calendar: https://cal.example.com/demo – any 30-minute slot "
    "works. Happy to walk you through how teams like yours use it."
)


@dataclass
class OrgDataset:
    """What `build_org_dataset` made, for tests to point at."""

    organization: object
    connection: object
    campaigns: list = field(default_factory=list)
    mailboxes: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    threads: list = field(default_factory=list)


def _draw(rng: random.Random, n: float, p: float) -> int:
    """About n * p, rounded at random, so small figures are not all zero."""
    x = n * p
    return int(x) + (1 if rng.random() < x - int(x) else 0)


def _at(day: dt.date, rng: random.Random, start_hour: int = 8, end_hour: int = 18) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(rng.randint(start_hour, end_hour - 1), rng.randint(0, 59)), tzinfo=dt.UTC
    )


def build_org_dataset(
    organization,
    *,
    connection=None,
    today: dt.date | None = None,
    days: int = 60,
    campaigns: int = 4,
    leads_per_campaign: int = 30,
    replies_per_campaign: int = 6,
    mailboxes: int = 3,
    shared_mailbox: EmailAccount | None = None,
    seed: int = 1,
) -> OrgDataset:
    """Build a realistic dataset for `organization` (see the module docstring)."""
    rng = random.Random(f"{seed}-{organization.slug}")
    today = today or timezone.now().date()
    connection = connection or make_shared_connection()
    data = OrgDataset(organization=organization, connection=connection)
    # A second call for the same organization (another seed) adds to what is there.
    slug = organization.slug if seed == 1 else f"{organization.slug}{seed}"
    with staff_scope():
        seen = set(
            Contact.objects.filter(organization=organization).values_list("email", flat=True)
        )
        data.mailboxes = _mailboxes(organization, connection, mailboxes, rng, slug)
        senders_pool = list(data.mailboxes) + ([shared_mailbox] if shared_mailbox else [])
        _mailbox_days(data.mailboxes, today, rng)
        first_name = rng.randrange(len(CAMPAIGN_NAMES))  # tenants get different campaigns
        for index in range(campaigns):
            name, _ = CAMPAIGN_NAMES[(first_name + index) % len(CAMPAIGN_NAMES)]
            status = CAMPAIGN_NAMES[index % len(CAMPAIGN_NAMES)][1]
            campaign = _campaign(organization, connection, f"{slug}-{index}", name, status, rng)
            data.campaigns.append(campaign)
            chosen = rng.sample(senders_pool, k=min(2, len(senders_pool)))
            CampaignSender.objects.bulk_create(
                CampaignSender(organization=organization, campaign=campaign, email_account=m)
                for m in chosen
            )
            sent_total = _campaign_days(campaign, status, today, days, rng)
            _step_stats(campaign, sent_total, rng)
            contacts, leads = _leads(organization, campaign, leads_per_campaign, today, rng, seen)
            data.contacts += contacts
            data.leads += leads
            data.threads += _threads(
                organization, campaign, leads[:replies_per_campaign], chosen, today, rng
            )
    return data


def _mailboxes(organization, connection, count, rng, slug):
    domain = f"{slug}-mail.io"
    names = ("anna", "ben", "carla", "david", "eva", "frank")
    accounts = []
    for i in range(count):
        status, warmup, score, error = MailboxStatus.ACTIVE, WarmupStatus.ACTIVE, 96, ""
        if i == 1:
            score = 72  # still warming up: shows as "to watch"
        if i == 2:
            status, error = MailboxStatus.CONNECTION_ERROR, "SMTP authentication failed (535 5.7.8)"
            score = 88
        accounts.append(
            EmailAccount(
                organization=organization,
                connection_id=connection.pk,
                email=f"{names[i % len(names)]}{i // len(names) or ''}@{domain}",
                first_name=names[i % len(names)].title(),
                status=status,
                last_error=error,
                last_error_at=timezone.now() - dt.timedelta(hours=3) if error else None,
                provider=rng.choice([MailProvider.GOOGLE, MailProvider.MICROSOFT]),
                daily_limit=50,
                warmup_status=warmup,
                warmup_score=score,
            )
        )
    return EmailAccount.objects.bulk_create(accounts)


def _mailbox_days(accounts, today, rng, days=21):
    rows = []
    for account in accounts:
        for offset in range(days):
            day = today - dt.timedelta(days=offset)
            sent = (
                0 if account.status != MailboxStatus.ACTIVE and offset < 2 else rng.randint(28, 50)
            )
            if offset == 0:
                sent = rng.randint(12, 50) if account.status == MailboxStatus.ACTIVE else 0
            rows.append(
                EmailAccountDailyStat(
                    organization=account.organization,
                    email_account=account,
                    date=day,
                    sent=sent,
                    bounced=_draw(rng, sent, 0.012),
                    replied=_draw(rng, sent, 0.02),
                )
            )
    EmailAccountDailyStat.objects.bulk_create(rows)


def _campaign(organization, connection, key, name, status, rng):
    sequences = [
        {
            "steps": [
                {
                    "type": "email",
                    "delay": delay,
                    "variants": [{"subject": s, "body": "Hi {{firstName}}, ..."} for s in subjects],
                }
                for delay, subjects in zip((0, 3, 5), SEQUENCE_SUBJECTS, strict=True)
            ]
        }
    ]
    return Campaign.objects.create(
        organization=organization,
        connection_id=connection.pk,
        instantly_id=f"cmp-{key}",
        name=name,
        status=status,
        daily_limit=rng.choice([150, 200, 250]),
        stop_on_reply=True,
        open_tracking=True,
        link_tracking=True,
        sequences=sequences,
        synced_at=timezone.now() - dt.timedelta(minutes=rng.randint(2, 50)),
    )


def _campaign_days(campaign, status, today, days, rng) -> int:
    """Daily figures from `days` ago; paused and completed campaigns stopped a while back."""
    stopped = {CampaignStatus.PAUSED: 9, CampaignStatus.COMPLETED: 24}.get(status, 0)
    base = campaign.daily_limit * rng.uniform(0.55, 0.9)
    reply_p, open_p = rng.uniform(0.014, 0.04), rng.uniform(0.38, 0.58)
    rows, total = [], 0
    for offset in range(days - 1, stopped - 1, -1):
        day = today - dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        ramp = min(1.0, (days - offset) / 10)  # campaigns start slowly
        sent = int(base * ramp * (0.15 if weekend else rng.uniform(0.8, 1.15)))
        if offset == 0:
            sent = int(sent * 0.6)  # today is not over yet
        replied = _draw(rng, sent, reply_p)
        interested = _draw(rng, replied, 0.35)
        rows.append(
            CampaignDailyStat(
                organization=campaign.organization,
                campaign=campaign,
                date=day,
                sent=sent,
                contacted=int(sent * 0.6),
                opened=_draw(rng, sent, open_p * 1.6),
                unique_opened=_draw(rng, sent, open_p),
                clicked=_draw(rng, sent, 0.05),
                unique_clicked=_draw(rng, sent, 0.035),
                replied=replied + _draw(rng, replied, 0.1),
                unique_replied=replied,
                auto_replied=_draw(rng, sent, 0.006),
                bounced=_draw(rng, sent, rng.uniform(0.005, 0.03)),
                unsubscribed=_draw(rng, sent, 0.003),
                interested=interested,
                meetings_booked=_draw(rng, interested, 0.45),
                opportunities=_draw(rng, interested, 0.6),
            )
        )
        total += sent
    CampaignDailyStat.objects.bulk_create(rows)
    return total


def _step_stats(campaign, sent_total, rng):
    rows = []
    for step, variants, share in ((1, 2, 0.5), (2, 1, 0.3), (3, 1, 0.2)):
        for variant in range(1, variants + 1):
            sent = int(sent_total * share / variants)
            replied = _draw(rng, sent, rng.uniform(0.01, 0.045))
            rows.append(
                CampaignStepStat(
                    organization=campaign.organization,
                    campaign=campaign,
                    step=step,
                    variant=variant,
                    sent=sent,
                    opened=_draw(rng, sent, 0.7),
                    unique_opened=_draw(rng, sent, rng.uniform(0.35, 0.6)),
                    clicked=_draw(rng, sent, 0.05),
                    unique_clicked=_draw(rng, sent, rng.uniform(0.015, 0.05)),
                    replied=replied,
                    unique_replied=replied,
                    opportunities=_draw(rng, replied, 0.3),
                )
            )
    CampaignStepStat.objects.bulk_create(rows)


def _leads(organization, campaign, count, today, rng, seen: set):
    """Contacts (unique per organization, `seen` spans its campaigns) and their leads."""
    contacts = []
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        email = f"{first}.{last}@{company.split()[0]}.com".lower()
        n = 1
        while email in seen:
            n += 1
            email = f"{first}.{last}{n}@{company.split()[0]}.com".lower()
        seen.add(email)
        contacts.append(
            Contact(
                organization=organization,
                email=email,
                first_name=first,
                last_name=last,
                company_name=company,
                last_activity_at=_at(today - dt.timedelta(days=rng.randint(0, 30)), rng),
            )
        )
    contacts = Contact.objects.bulk_create(contacts)
    statuses = (
        [LeadStatus.ACTIVE] * 11
        + [LeadStatus.COMPLETED] * 5
        + [
            LeadStatus.BOUNCED,
            LeadStatus.UNSUBSCRIBED,
            LeadStatus.PAUSED,
        ]
    )
    leads = Lead.objects.bulk_create(
        Lead(
            organization=organization,
            campaign=campaign,
            contact=contact,
            instantly_id=f"lead-{campaign.instantly_id}-{i}",
            status=rng.choice(statuses),
            last_activity_at=contact.last_activity_at,
        )
        for i, contact in enumerate(contacts)
    )
    return contacts, leads


def _threads(organization, campaign, leads, senders, today, rng):
    """Reply threads: the campaign emails, the lead's reply and sometimes our answer."""
    interests = list(REPLIES)
    threads, messages = [], []
    plans = []
    for i, lead in enumerate(leads):
        contact = lead.contact
        interest = interests[i % len(interests)]
        replied_on = today - dt.timedelta(days=rng.randint(0, 12))
        first_sent = replied_on - dt.timedelta(days=rng.randint(2, 8))
        lead.interest_status = interest
        lead.interest_status_at = _at(replied_on, rng)
        lead.last_activity_at = lead.interest_status_at
        lead.status = LeadStatus.COMPLETED if i % 3 == 0 else LeadStatus.ACTIVE
        sender = senders[i % len(senders)] if senders else None
        subject = THREAD_SUBJECTS[i % 2].format(
            company=contact.company_name, first=contact.first_name
        )
        threads.append(
            Thread(
                organization=organization,
                campaign=campaign,
                contact=contact,
                lead=lead,
                instantly_thread_id=f"thr-{campaign.instantly_id}-{i}",
                subject=subject,
                has_reply=True,
                is_unread=rng.random() < 0.45,
                last_inbound_at=lead.interest_status_at,
                last_message_at=lead.interest_status_at,
            )
        )
        plans.append((lead, contact, sender, subject, first_sent, interest))
    Lead.objects.bulk_update(
        [p[0] for p in plans],
        ["status", "interest_status", "interest_status_at", "last_activity_at"],
    )
    threads = Thread.objects.bulk_create(threads)
    for thread, (_lead, contact, sender, subject, first_sent, interest) in zip(
        threads, plans, strict=True
    ):
        ours = sender.email if sender else "team@example.com"
        signature = sender.first_name if sender and sender.first_name else "The team"
        common = {"organization": organization, "thread": thread, "campaign": campaign}
        common["contact"] = contact
        messages.append(
            Message(
                **common,
                email_account=sender,
                direction=Message.Direction.OUTBOUND,
                kind=Message.Kind.CAMPAIGN,
                subject=subject,
                body_text=(
                    f"Hi {contact.first_name},\n\nI noticed {contact.company_name} is hiring "
                    "for sales – teams at that stage often struggle to keep outbound "
                    "consistent. We help them book 10-15 qualified meetings a month without "
                    f"adding headcount.\n\nWorth a quick chat?\n\n{signature}"
                ),
                from_email=ours,
                to_email=contact.email,
                step=1,
                variant=1 + thread.pk % 2,
                sent_at=_at(first_sent, rng, 8, 10),
            )
        )
        if rng.random() < 0.6:
            messages.append(
                Message(
                    **common,
                    email_account=sender,
                    direction=Message.Direction.OUTBOUND,
                    kind=Message.Kind.CAMPAIGN,
                    subject=f"Re: {subject}",
                    body_text=f"Hi {contact.first_name}, just floating this to the top of your "
                    "inbox – would a short call next week make sense?",
                    from_email=ours,
                    to_email=contact.email,
                    step=2,
                    variant=1,
                    sent_at=_at(first_sent + dt.timedelta(days=1), rng, 8, 10),
                )
            )
        messages.append(
            Message(
                **common,
                direction=Message.Direction.INBOUND,
                kind=Message.Kind.AUTO_REPLY
                if interest == InterestStatus.OUT_OF_OFFICE
                else Message.Kind.REPLY,
                subject=f"Re: {subject}",
                body_text=REPLIES[interest].format(first=contact.first_name),
                snippet=REPLIES[interest].format(first=contact.first_name)[:160],
                from_email=contact.email,
                to_email=ours,
                sent_at=thread.last_inbound_at,
                is_unread=thread.is_unread,
                instantly_email_id=f"received-{thread.pk}",
            )
        )
        if interest == InterestStatus.INTERESTED:
            messages.append(
                Message(
                    **common,
                    email_account=sender,
                    direction=Message.Direction.OUTBOUND,
                    kind=Message.Kind.MANUAL,
                    subject=f"Re: {subject}",
                    body_text=ANSWER.format(first=contact.first_name),
                    from_email=ours,
                    to_email=contact.email,
                    sent_at=thread.last_inbound_at + dt.timedelta(minutes=40),
                )
            )
            thread.last_message_at = thread.last_inbound_at + dt.timedelta(minutes=40)
    Message.objects.bulk_create(messages)
    for thread in threads:
        thread.message_count = sum(1 for m in messages if m.thread_id == thread.pk)
    Thread.objects.bulk_update(threads, ["message_count", "last_message_at"])
    return threads
