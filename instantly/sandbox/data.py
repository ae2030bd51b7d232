"""A generated, deterministic Instantly workspace: the data behind the local sandbox.

Demos and end-to-end tests need a workspace that looks like real Instantly traffic (every status
code, multi-step sequences, opens, replies, bounces) and comes out the same on every run, so
everything derives from one seed. Campaigns and accounts are built up front (cheap); each
campaign's leads, Unibox emails and activity are built on first use from their own seeded RNG,
so a workspace of thousands of campaigns starts at once and the data never depends on the order
in which it is read.

One activity log per lead (sent, opened, clicked, replied, ...) feeds the Unibox, the lead
counters, every analytics endpoint and the webhook generator, so they all agree with each other.

Times are generated against a fixed anchor, ids are derived from those times (time-ordered
UUIDv7, like Instantly's), and timestamps are shifted to `now` when written out: moving `now`
moves every timestamp but keeps every id. The module is pure stdlib and not thread-safe; the
sandbox server serialises access to it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

ANCHOR = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 30

# Coverage order: campaign, account and lead number i < len(values) gets values[i], so even a
# small workspace shows every code; later ones draw from the weights. Active comes first so a
# one-campaign workspace still has traffic.
CAMPAIGN_STATUSES = (1, 2, 3, 0, 4, -1, -2, -99)
CAMPAIGN_STATUS_WEIGHTS = (60, 10, 12, 8, 3, 3, 2, 2)
ACCOUNT_STATUSES = (1, 2, -1, -2, -3)
ACCOUNT_STATUS_WEIGHTS = (82, 6, 5, 4, 3)
WARMUP_STATUSES = (1, 0, -1, -2, -3)
WARMUP_STATUS_WEIGHTS = (75, 15, 3, 4, 3)
PROVIDER_CODES = (2, 3, 1, 4)
PROVIDER_CODE_WEIGHTS = (45, 35, 15, 5)
LEAD_STATUSES = (1, 2, 3, -1, -2, -3)
LEAD_STATUS_WEIGHTS = (45, 4, 30, 8, 5, 8)
INTEREST_STATUSES = (1, 2, 3, 4, 0, -1, -2, -3, -4)
INTEREST_STATUS_WEIGHTS = (30, 15, 8, 5, 15, 15, 6, 4, 2)
# The labels a lead goes through to reach its final interest status; every positive path starts
# with "interested" (1), which is what counts as an opportunity.
INTEREST_PATHS = {
    1: (1,),
    2: (1, 2),
    3: (1, 2, 3),
    4: (1, 2, 3, 4),
    0: (0,),
    -1: (-1,),
    -2: (-2,),
    -3: (1, -3),
    -4: (1, 2, -4),
}
OPPORTUNITY = 1

UE_CAMPAIGN, UE_RECEIVED, UE_MANUAL = 1, 2, 3
BLOCKED_DOMAINS = frozenset({"blocked.example"})
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

ACCOUNT_ERRORS = {
    -1: {
        "code": "EAUTH",
        "command": "AUTH PLAIN",
        "response": "535-5.7.8 Username and Password not accepted.",
        "e_message": "Invalid login: 535-5.7.8 Username and Password not accepted.",
        "responseCode": 535,
    },
    -2: {
        "code": "EENVELOPE",
        "command": "RCPT TO",
        "response": "452 4.2.2 The email account that you tried to reach is over quota.",
        "e_message": "Soft bounce rate too high: sending paused for this account.",
        "responseCode": 452,
    },
    -3: {
        "code": "EMESSAGE",
        "command": "DATA",
        "response": "550 5.4.5 Daily user sending quota exceeded.",
        "e_message": "Message failed: 550 5.4.5 Daily user sending quota exceeded.",
        "responseCode": 550,
    },
}

FIRST_NAMES = tuple(
    (
        "Ada Ben Carla Dmitri Elena Farid Grace Hugo Ines Jonas Keiko Liam Maya Nils Olivia "
        "Pedro Quinn Rosa Samir Tessa Umar Vera Wei Ximena Yusuf Zoe Amara Bruno Chloe Diego"
    ).split()
)
LAST_NAMES = tuple(
    (
        "Adler Baker Castro Dubois Eriksen Fischer Garcia Hansen Ito Jensen Kowalski Lopez "
        "Moreau Novak Okafor Patel Quint Rossi Schmidt Tanaka Usman Varga Weber Xu Young Zhang "
        "Brennan Costa"
    ).split()
)
COMPANIES = tuple(
    name.strip()
    for name in (
        "Northwind Logistics, Bluepeak Analytics, Copperleaf Health, Driftwood Studios, "
        "Evergreen Payroll, Foxglove Robotics, Granite Ledger, Harborline Freight, "
        "Ironbark Security, Juniper Dental Group, Keystone Fintech, Lumen Solar, "
        "Maple & Finch Legal, Nimbus HR, Orchard Foods, Pinecrest Realty, Quarry Labs, "
        "Redwood Insurance, Saltmarsh Marine, Tidewater Clinics, Umbra Cyber, Vantage Fleet, "
        "Willow Learning, Yellowstone Outfitters, Zephyr Travel"
    ).split(",")
)
JOB_TITLES = tuple(
    name.strip()
    for name in (
        "Head of Sales, VP Marketing, Founder & CEO, Operations Manager, CTO, Head of Growth, "
        "Office Manager, Director of Finance, RevOps Lead"
    ).split(",")
)
CITIES = ("Austin", "Berlin", "Chicago", "Denver", "Dublin", "Lisbon", "London", "Toronto")
SEGMENTS = ("SaaS founders", "Dental clinics", "Logistics", "Law firms", "E-commerce", "Fintech")
REGIONS = ("US", "UK", "DACH", "Nordics", "Canada", "ANZ")
OFFERS = ("Outbound audit", "Lead gen pilot", "Webinar invite", "Case study", "Free trial")
SENDER_DOMAINS = tuple(
    (
        "salesbrain-mail.example getsalesbrain.example trysalesbrain.example "
        "salesbrainhq.example meetsalesbrain.example"
    ).split()
)
TIMEZONES = ("America/Chicago", "America/New_York", "Europe/London", "Europe/Berlin")

STEP_ONE_SUBJECTS = (
    "{{firstName}}, quick question about {{companyName}}",
    "Idea for {{companyName}}",
    "{{companyName}} + Salesbrain",
)
STEP_BODIES = (
    "Hi {{firstName}},\n\nI noticed {{companyName}} is hiring for its sales team. We help teams "
    "like yours book 20+ qualified meetings a month without adding headcount.\n\nWorth a "
    "15-minute chat next week?\n\n{{sendingAccountFirstName}}",
    "Hi {{firstName}},\n\nJust bumping this up in case it got buried. Happy to send a short "
    "case study from a company similar to {{companyName}}.\n\n{{sendingAccountFirstName}}",
    "Hi {{firstName}},\n\nShould I reach out to someone else at {{companyName}} about "
    "outbound?\n\n{{sendingAccountFirstName}}",
    "Hi {{firstName}},\n\nI'll stop here. If outbound becomes a priority, just reply to this "
    "email.\n\n{{sendingAccountFirstName}}",
)
REPLY_TEXTS = {
    None: "Thanks for reaching out. What does pricing look like for a team of five?",
    1: "Thanks {sender}, this is timely. Could you send a few times for a call on Thursday?",
    0: "I am out of the office until next Monday with limited access to email. For urgent "
    "matters please contact our office.",
    -1: "Not interested, please take me off your list.",
    -2: "I'm not the right person for this, our operations lead handles vendors.",
}


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing that happened to a lead; analytics, Unibox and webhooks all read these.

    `kind` is sent, opened, clicked, replied, auto_replied, bounced, unsubscribed, interest
    (`value` = the new lt_interest_status), completed (sequence finished without a reply) or
    skipped. `step` and `variant` are 1-based; `at` is already shifted to the workspace's now.
    """

    kind: str
    at: datetime
    lead_id: str
    step: int
    variant: int
    eaccount: str
    email_id: str | None = None
    value: int | None = None


@dataclass
class CampaignData:
    """What a campaign holds once built: leads by id and activity in time order.

    `stories` keeps every generated lead with its Unibox thread id (even after a delete), and
    `emails` is built from the activity on first read: listing leads should not pay for it.
    """

    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: list[Activity] = field(default_factory=list)
    stories: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    emails: list[dict[str, Any]] | None = None


class NotFound(LookupError):
    """An id that names nothing in the workspace (the server answers 404)."""


# --- small helpers ---------------------------------------------------------------------------


def _format_uuid(value: int) -> str:
    # Same text as str(uuid.UUID(int=value)), several times cheaper on hot generation paths.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _uuid7(rng: random.Random, at: datetime) -> str:
    """A UUIDv7 whose time part is `at`: sorting ids sorts by creation, as in Instantly."""
    millis = int(at.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    return _format_uuid(value | (0b10 << 62) | rng.getrandbits(62))


def _uuid4(rng: random.Random) -> str:
    value = rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)
    return _format_uuid(value | (0x4000 << 64) | (0x8000 << 48))


def _cover(rng: random.Random, index: int, values: tuple, weights: tuple) -> Any:
    """values[index] while index is small (so every code shows up), then a weighted draw."""
    if index < len(values):
        return values[index]
    return rng.choices(values, weights)[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _html(text: str) -> str:
    return "".join(
        f"<div>{line}</div>" if line else "<div><br /></div>" for line in text.split("\n")
    )


def _text_of(html: str) -> str:
    """The plain-text part of a body written by `_html` (one <div> per line)."""
    lines = re.findall(r"<div>(.*?)</div>", html)
    return "\n".join("" if line == "<br />" else re.sub(r"<[^>]+>", "", line) for line in lines)


def _render(template: str, variables: Mapping[str, str]) -> str:
    for name, value in variables.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def parse_date(value: str | date | None) -> date | None:
    """A YYYY-MM-DD query value (or a date) as a date; ValueError on anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


# --- the workspace ---------------------------------------------------------------------------


class SandboxWorkspace:
    """A whole fake Instantly workspace: campaigns, mailboxes, leads, Unibox, analytics, hooks.

    Same seed and sizes give byte-identical data (see `export`). `emails_per_campaign` caps how
    many Unibox rows each campaign lists, oldest first (None lists every email the lead stories
    produce; activity and analytics are not capped). `now` moves every timestamp, no id.
    """

    def __init__(
        self,
        seed: int = 1,
        campaigns: int = 20,
        accounts: int = 50,
        leads_per_campaign: int = 20,
        emails_per_campaign: int | None = None,
        now: datetime | None = None,
    ) -> None:
        if campaigns < 0 or accounts < 1 or leads_per_campaign < 0:
            raise ValueError("need campaigns >= 0, accounts >= 1 and leads_per_campaign >= 0")
        self.seed = seed
        self.leads_per_campaign = leads_per_campaign
        self.emails_per_campaign = emails_per_campaign
        self.now = (now or ANCHOR).astimezone(UTC)
        self._shift = self.now - ANCHOR
        rng = random.Random(f"{seed}:workspace")
        self.workspace = self._make_workspace(rng)
        self._tag_ids = [_uuid7(rng, ANCHOR - timedelta(days=400 - i)) for i in range(5)]
        account_list = [self._make_account(rng, i) for i in range(accounts)]
        self._accounts = {a["email"]: a for a in sorted(account_list, key=lambda a: a["email"])}
        self._account_emails = [a["email"] for a in account_list]
        made = [self._make_campaign(rng, index) for index in range(campaigns)]
        # Generation number seeds each campaign's leads; listings go in id (= creation) order.
        self._campaign_index = {campaign["id"]: index for index, campaign in enumerate(made)}
        self._campaigns = {c["id"]: c for c in sorted(made, key=lambda c: c["id"])}
        self._data: dict[str, CampaignData] = {}
        self._lead_campaign: dict[str, str] = {}
        self._email_index: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self._mutation_rng = random.Random(f"{seed}:mutations")
        self._mutations = 0

    # --- formatting ------------------------------------------------------------------------

    def _ts(self, at: datetime) -> str:
        """An anchor-relative time as Instantly writes timestamps (ISO 8601, ms, Z)."""
        return (at + self._shift).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _new_id(self) -> tuple[str, datetime, str]:
        """Id, shifted time and timestamp for an object created through the API.

        Ids sort after every generated one, so cursors keep working after writes."""
        self._mutations += 1
        at = ANCHOR + timedelta(milliseconds=self._mutations)
        return _uuid7(self._mutation_rng, at), at + self._shift, self._ts(at)

    # --- generation: workspace, accounts, campaigns ----------------------------------------

    def _make_workspace(self, rng: random.Random) -> dict[str, Any]:
        created = ANCHOR - timedelta(days=500)
        return {
            "id": _uuid7(rng, created),
            "name": "Salesbrain Agency (sandbox)",
            "owner": _uuid7(rng, created),
            "plan_id": "pid_hg_v1",
            "plan_id_leadfinder": None,
            "plan_id_verification": None,
            "add_on_resell": False,
            "org_logo_url": None,
            "org_client_domain": "app.salesbrain.example",
            "default_opportunity_value": 1000,
            "timestamp_created": self._ts(created),
            "timestamp_updated": self._ts(ANCHOR - timedelta(days=3)),
        }

    def _make_account(self, rng: random.Random, index: int) -> dict[str, Any]:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = SENDER_DOMAINS[index % len(SENDER_DOMAINS)]
        # The index keeps addresses unique however many mailboxes are asked for.
        email = f"{first.lower()}.{last.lower()}{index // len(SENDER_DOMAINS) + 1}@{domain}"
        status = _cover(rng, index, ACCOUNT_STATUSES, ACCOUNT_STATUS_WEIGHTS)
        warmup_status = _cover(rng, index, WARMUP_STATUSES, WARMUP_STATUS_WEIGHTS)
        provider = _cover(rng, index, PROVIDER_CODES, PROVIDER_CODE_WEIGHTS)
        created = ANCHOR - timedelta(days=rng.uniform(45, 400))
        account = {
            "email": email,
            "timestamp_created": self._ts(created),
            "timestamp_updated": self._ts(ANCHOR - timedelta(hours=rng.uniform(1, 72))),
            "first_name": first,
            "last_name": last,
            "organization": self.workspace["id"],
            "warmup_status": warmup_status,
            "provider_code": provider,
            "setup_pending": False,
            "is_managed_account": rng.random() < 0.2,
            "warmup": {
                "limit": rng.choice((10, 20, 30, 40)),
                "increment": rng.choice(("disabled", 1, 2)),
                "reply_rate": rng.choice((20, 30, 40)),
                "warmup_custom_ftag": "sbw",
                "advanced": {
                    "warm_ctd": False,
                    "open_rate": 0.95,
                    "important_rate": 0.8,
                    "read_emulation": True,
                    "spam_save_rate": 0.02,
                    "weekday_only": rng.random() < 0.5,
                },
            },
            "status": status,
            "daily_limit": rng.choice((20, 30, 40, 50)),
            "sending_gap": rng.choice((5, 10, 15)),
            "signature": f"{first} {last}",
            "tracking_domain_name": f"track.{domain}" if rng.random() < 0.5 else None,
            "tracking_domain_status": "active",
            "stat_warmup_score": rng.randint(0, 40) if warmup_status < 0 else rng.randint(70, 100),
            "timestamp_warmup_start": self._ts(created + timedelta(days=1)),
            "timestamp_last_used": self._ts(ANCHOR - timedelta(minutes=rng.uniform(5, 4000))),
        }
        if status in ACCOUNT_ERRORS:
            account["status_message"] = dict(ACCOUNT_ERRORS[status])
        return account

    def _make_campaign(self, rng: random.Random, index: int) -> dict[str, Any]:
        created = ANCHOR - timedelta(days=rng.uniform(35, 60), seconds=index)
        status = _cover(rng, index, CAMPAIGN_STATUSES, CAMPAIGN_STATUS_WEIGHTS)
        segment, region, offer = rng.choice(SEGMENTS), rng.choice(REGIONS), rng.choice(OFFERS)
        steps = []
        for step in range(rng.randint(1, 4)):
            variants = []
            for number in range(rng.randint(1, 3)):
                # Follow-ups with an empty subject go out as "Re: <first subject>" in the thread.
                subject = rng.choice(STEP_ONE_SUBJECTS) if step == 0 else ""
                body = STEP_BODIES[step]
                if number:
                    body = body.replace("Hi {{firstName}}", "Hey {{firstName}}")
                variants.append({"subject": subject, "body": _html(body), "v_disabled": False})
            if len(variants) > 1 and rng.random() < 0.2:
                variants[-1]["v_disabled"] = True
            steps.append(
                {
                    "type": "email",
                    "delay": rng.randint(1, 4),
                    "delay_unit": "days",
                    "variants": variants,
                }
            )
        sender_count = min(len(self._account_emails), rng.randint(1, 6))
        days = {str(day): 1 <= day <= 5 for day in range(7)}
        return {
            "id": _uuid7(rng, created),
            "name": f"{segment} {region} - {offer} #{index + 1}",
            "status": status,
            "timestamp_created": self._ts(created),
            "timestamp_updated": self._ts(ANCHOR - timedelta(hours=rng.uniform(1, 96))),
            "organization": self.workspace["id"],
            "owned_by": self.workspace["owner"],
            "pl_value": rng.choice((500, 1000, 2500, 5000)),
            "is_evergreen": rng.random() < 0.1,
            "campaign_schedule": {
                "start_date": (created + self._shift).date().isoformat(),
                "end_date": None,
                "schedules": [
                    {
                        "name": "Business hours",
                        "timing": {"from": "09:00", "to": rng.choice(("17:00", "18:00"))},
                        "days": days,
                        "timezone": rng.choice(TIMEZONES),
                    }
                ],
            },
            "sequences": [{"steps": steps}],
            "email_gap": rng.choice((5, 10, 15)),
            "random_wait_max": rng.choice((5, 10)),
            "text_only": rng.random() < 0.15,
            "email_list": rng.sample(self._account_emails, sender_count),
            "email_tag_list": rng.sample(self._tag_ids, rng.randint(0, 2)),
            "daily_limit": rng.choice((50, 100, 200, 500)),
            "daily_max_leads": rng.choice((25, 50, 100)),
            "stop_on_reply": rng.random() < 0.9,
            "stop_on_auto_reply": rng.random() < 0.3,
            "link_tracking": rng.random() < 0.6,
            "open_tracking": rng.random() < 0.8,
            "prioritize_new_leads": False,
            "match_lead_esp": rng.random() < 0.3,
            "allow_risky_contacts": False,
            "disable_bounce_protect": False,
            "insert_unsubscribe_header": True,
            "cc_list": [],
            "bcc_list": [],
        }

    # --- generation: leads and their stories -----------------------------------------------

    def _campaign_data(self, campaign_id: str) -> CampaignData:
        """Build (once) the leads and activity of one campaign from its own RNG."""
        data = self._data.get(campaign_id)
        if data is not None:
            return data
        index = self._campaign_index[campaign_id]
        campaign = self._campaigns[campaign_id]
        rng = random.Random(f"{self.seed}:campaign:{index}")
        data = CampaignData()
        leads = []
        seen_emails: set[str] = set()
        for number in range(self.leads_per_campaign):
            lead, activity = self._make_lead(rng, campaign, number, seen_emails)
            leads.append(lead)
            data.activity.extend(activity)
            data.stories[lead["id"]] = (lead, _uuid4(rng))
        for lead in sorted(leads, key=lambda lead: lead["id"]):
            data.leads[lead["id"]] = lead
            self._lead_campaign[lead["id"]] = campaign_id
        data.activity.sort(key=lambda a: (a.at, a.lead_id))
        self._data[campaign_id] = data
        return data

    def _campaign_emails(self, campaign_id: str) -> list[dict[str, Any]]:
        """Build (once) a campaign's Unibox rows from its activity, oldest first."""
        data = self._campaign_data(campaign_id)
        if data.emails is not None:
            return data.emails
        campaign = self._campaigns[campaign_id]
        steps = campaign["sequences"][0]["steps"]
        first_subjects: dict[str, str] = {}
        rows = []
        for a in data.activity:
            if a.kind not in ("sent", "replied", "auto_replied"):
                continue
            lead, thread_id = data.stories[a.lead_id]
            sender = self._accounts[a.eaccount]
            variables = {**lead["payload"], "sendingAccountFirstName": sender["first_name"]}
            at = a.at - self._shift
            if a.kind == "sent":
                template = steps[a.step - 1]["variants"][a.variant - 1]
                subject = _render(template["subject"], variables)
                first_subjects.setdefault(a.lead_id, subject)
                html = _render(template["body"], variables)
                row = self._unibox_row(
                    a.email_id,
                    at,
                    campaign,
                    lead,
                    thread_id,
                    UE_CAMPAIGN,
                    sender=a.eaccount,
                    to=lead["email"],
                    subject=subject or f"Re: {first_subjects[a.lead_id]}",
                    text=_text_of(html),
                    html=html,
                    step=a.step,
                )
            else:
                interest = lead.get("lt_interest_status")
                text = REPLY_TEXTS[_reply_key(interest, a.kind)].format(sender=sender["first_name"])
                row = self._unibox_row(
                    a.email_id,
                    at,
                    campaign,
                    lead,
                    thread_id,
                    UE_RECEIVED,
                    sender=lead["email"],
                    to=a.eaccount,
                    subject=f"Re: {first_subjects.get(a.lead_id, '')}",
                    text=text,
                    html=_html(text),
                    step=a.step,
                )
                row["is_auto_reply"] = 1 if a.kind == "auto_replied" else 0
                row["i_status"] = interest
                # About a third of received mail is still unread, chosen by id (no RNG needed).
                row["is_unread"] = 1 if a.email_id[-1] in "012345" else 0
            rows.append(row)
        rows.sort(key=lambda e: e["id"])
        for row in rows:
            self._email_index[row["id"]] = row
        data.emails = rows
        return rows

    def _make_lead(
        self, rng: random.Random, campaign: dict[str, Any], number: int, seen: set[str]
    ) -> tuple[dict[str, Any], list[Activity]]:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        domain = f"{_slug(company)}.example"
        email = f"{first.lower()}.{last.lower()}@{domain}"
        if email in seen:
            email = f"{first.lower()}.{last.lower()}{number}@{domain}"
        seen.add(email)
        variables = {
            "firstName": first,
            "lastName": last,
            "companyName": company,
            "jobTitle": rng.choice(JOB_TITLES),
            "city": rng.choice(CITIES),
        }
        status, interest = self._lead_outcome(rng, campaign, number)
        plan = [] if campaign["status"] == 0 else self._lead_plan(rng, campaign, status, interest)
        span = plan[-1][1] if plan else 0.0
        window = HISTORY_DAYS * 86400 - 3600
        start = ANCHOR - timedelta(seconds=span + rng.uniform(600, max(600, window - span)))
        created = start - timedelta(hours=rng.uniform(1, 48))
        lead_id = _uuid7(rng, created)
        lead = {
            "id": lead_id,
            "timestamp_created": self._ts(created),
            "timestamp_updated": self._ts(start + timedelta(seconds=span)),
            "organization": self.workspace["id"],
            "campaign": campaign["id"],
            "email": email,
            "first_name": first,
            "last_name": last,
            "company_name": company,
            "company_domain": domain,
            "website": f"https://www.{domain}",
            "phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "personalization": f"Loved the recent {company} announcement.",
            "status": status,
            "verification_status": 1,
            "upload_method": "api",
            "uploaded_by": self.workspace["owner"],
            "email_open_count": 0,
            "email_reply_count": 0,
            "email_click_count": 0,
            "payload": variables,
        }
        if interest is not None:
            lead["lt_interest_status"] = interest
        eaccount = campaign["email_list"][number % len(campaign["email_list"])]
        activity: list[Activity] = []
        for kind, offset, step, variant, value in plan:
            at = start + timedelta(seconds=offset)
            email_id = _uuid7(rng, at) if kind in ("sent", "replied", "auto_replied") else None
            activity.append(
                Activity(kind, at + self._shift, lead_id, step, variant, eaccount, email_id, value)
            )
            self._count_on_lead(lead, kind, at, step, variant, value)
        return lead, activity

    def _lead_outcome(
        self, rng: random.Random, campaign: dict[str, Any], number: int
    ) -> tuple[int, int | None]:
        """Final (status, lt_interest_status) of a lead; the first leads cover every code."""
        if campaign["status"] == 0:
            return 1, None
        if number < len(LEAD_STATUSES):
            return LEAD_STATUSES[number], None
        interest_slot = number - len(LEAD_STATUSES)
        if interest_slot < len(INTEREST_STATUSES) or rng.random() < 0.15:
            interest = _cover(rng, interest_slot, INTEREST_STATUSES, INTEREST_STATUS_WEIGHTS)
            return (3 if campaign["stop_on_reply"] else 1), interest
        return rng.choices(LEAD_STATUSES, LEAD_STATUS_WEIGHTS)[0], None

    def _lead_plan(
        self, rng: random.Random, campaign: dict[str, Any], status: int, interest: int | None
    ) -> list[tuple[str, float, int, int, int | None]]:
        """A lead's story as (kind, seconds after its first send, step, variant, value)."""
        steps = campaign["sequences"][0]["steps"]
        if status == -3:
            return [("skipped", 0.0, 1, 1, None)]
        if status == -1:
            sends = 1
        elif status == 3 and interest is None:
            sends = len(steps)
        elif status in (1, 2) and interest is None:
            sends = rng.randint(0, len(steps) - 1)
        else:
            sends = rng.randint(1, len(steps))
        plan: list[tuple[str, float, int, int, int | None]] = []
        t = 0.0
        variant = 1
        for step in range(1, sends + 1):
            if step > 1:
                t += steps[step - 2]["delay"] * 86400 + rng.uniform(-7200, 7200)
            enabled = [
                i + 1 for i, v in enumerate(steps[step - 1]["variants"]) if not v["v_disabled"]
            ]
            variant = rng.choice(enabled)
            plan.append(("sent", t, step, variant, None))
            if status == -1:
                plan.append(("bounced", t + rng.uniform(60, 1800), step, variant, None))
                return plan
            if campaign["open_tracking"] and rng.random() < 0.55:
                opens = sorted(t + rng.uniform(300, 72000) for _ in range(rng.randint(1, 3)))
                plan.extend(("opened", at, step, variant, None) for at in opens)
                if campaign["link_tracking"] and rng.random() < 0.3:
                    plan.append(("clicked", opens[0] + rng.uniform(10, 600), step, variant, None))
        last_step = sends
        end = t + 86400 * 3
        if status == -2:
            plan.append(("unsubscribed", t + rng.uniform(1800, 172800), last_step, variant, None))
        elif interest is not None or (status == 3 and rng.random() < 0.25):
            reply_at = t + rng.uniform(3600, 172800)
            kind = "auto_replied" if interest == 0 else "replied"
            plan.append((kind, reply_at, last_step, variant, None))
            for value in INTEREST_PATHS.get(interest, ()):
                reply_at += rng.uniform(600, 86400)
                plan.append(("interest", reply_at, last_step, variant, value))
        elif status == 3:
            plan.append(("completed", end, last_step, variant, None))
        plan.sort(key=lambda item: item[1])
        return plan

    def _count_on_lead(
        self, lead: dict[str, Any], kind: str, at: datetime, step: int, variant: int, value: Any
    ) -> None:
        """Keep the lead's counters and last-* timestamps in line with its activity."""
        ts = self._ts(at)
        if kind == "sent":
            lead["timestamp_last_contact"] = ts
            lead["last_step_timestamp_executed"] = ts
        elif kind == "opened":
            lead["email_open_count"] += 1
            lead["timestamp_last_open"] = ts
            lead.setdefault("email_opened_step", step)
            lead.setdefault("email_opened_variant", variant)
        elif kind == "clicked":
            lead["email_click_count"] += 1
            lead["timestamp_last_click"] = ts
            lead.setdefault("email_clicked_step", step)
            lead.setdefault("email_clicked_variant", variant)
        elif kind in ("replied", "auto_replied"):
            lead["email_reply_count"] += 1
            lead["timestamp_last_reply"] = ts
            lead["email_replied_step"] = step
            lead["email_replied_variant"] = variant
        elif kind == "interest":
            lead["timestamp_last_interest_change"] = ts

    def _unibox_row(
        self,
        email_id: str,
        at: datetime,
        campaign: dict[str, Any],
        lead: dict[str, Any],
        thread_id: str,
        ue_type: int,
        *,
        sender: str,
        to: str,
        subject: str,
        text: str,
        html: str,
        step: int | None,
    ) -> dict[str, Any]:
        ts = self._ts(at)
        return {
            "id": email_id,
            "timestamp_created": ts,
            "timestamp_email": ts,
            "message_id": f"<{email_id}@{sender.split('@')[1]}>",
            "subject": subject,
            "from_address_email": sender,
            "to_address_email_list": to,
            "cc_address_email_list": None,
            "body": {"text": text, "html": html},
            "content_preview": text[:100],
            "organization_id": self.workspace["id"],
            "campaign_id": campaign["id"],
            "subsequence_id": None,
            "lead": lead["email"],
            "lead_id": lead["id"],
            "eaccount": sender if ue_type != UE_RECEIVED else to,
            "ue_type": ue_type,
            # Instantly's type for this field is unconfirmed; sent as text like other ids.
            "step": None if step is None else str(step),
            "is_unread": 0,
            "is_auto_reply": 0,
            "i_status": None,
            "thread_id": thread_id,
        }

    # --- reading ---------------------------------------------------------------------------

    @property
    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign, in id (= creation) order."""
        return list(self._campaigns.values())

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Every sending mailbox, in email order (the accounts cursor is the email)."""
        return list(self._accounts.values())

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        try:
            return self._campaigns[campaign_id]
        except KeyError:
            raise NotFound(f"Campaign {campaign_id} not found")

    def account(self, email: str) -> dict[str, Any]:
        try:
            return self._accounts[email]
        except KeyError:
            raise NotFound(f"Account {email} not found")

    def leads(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Leads of one campaign, or of all, in id order."""
        if campaign_id is not None:
            return list(self._campaign_data(self.campaign(campaign_id)["id"]).leads.values())
        leads = [
            lead for cid in self._campaigns for lead in self._campaign_data(cid).leads.values()
        ]
        return sorted(leads, key=lambda lead: lead["id"])

    def lead(self, lead_id: str) -> dict[str, Any]:
        self._build_all()
        campaign_id = self._lead_campaign.get(lead_id)
        if campaign_id is None:
            raise NotFound(f"Lead {lead_id} not found")
        return self._data[campaign_id].leads[lead_id]

    def emails(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Unibox rows of one campaign, or of all, oldest first (ids sort by time)."""
        ids = list(self._campaigns) if campaign_id is None else [self.campaign(campaign_id)["id"]]
        cap = self.emails_per_campaign
        rows = [e for cid in ids for e in self._campaign_emails(cid)[:cap]]
        return rows if campaign_id is not None else sorted(rows, key=lambda e: e["id"])

    def email(self, email_id: str) -> dict[str, Any]:
        """One Unibox row by id (rows hidden by `emails_per_campaign` included)."""
        if email_id not in self._email_index:
            for campaign_id in self._campaigns:
                self._campaign_emails(campaign_id)
        try:
            return self._email_index[email_id]
        except KeyError:
            raise NotFound(f"Email {email_id} not found")

    def activity(self, campaign_id: str) -> list[Activity]:
        """A campaign's activity log, in time order."""
        return self._campaign_data(self.campaign(campaign_id)["id"]).activity

    def stories(self, campaign_id: str) -> list[tuple[dict[str, Any], str, list[Activity]]]:
        """Every generated lead of a campaign with its Unibox thread id and its activity.

        Leads come in generation order, each one's activity in time order; the campaign's
        Unibox rows are built too, so `email()` finds every email an activity points to."""
        campaign_id = self.campaign(campaign_id)["id"]
        self._campaign_emails(campaign_id)
        data = self._data[campaign_id]
        by_lead: dict[str, list[Activity]] = {lead_id: [] for lead_id in data.stories}
        for a in data.activity:
            by_lead[a.lead_id].append(a)
        return [
            (lead, thread, by_lead[lead_id]) for lead_id, (lead, thread) in data.stories.items()
        ]

    def _build_all(self) -> None:
        for campaign_id in self._campaigns:
            self._campaign_data(campaign_id)

    def materialize(self) -> SandboxWorkspace:
        """Build every campaign's leads and Unibox now (benchmarks warm up before timing)."""
        for campaign_id in self._campaigns:
            self._campaign_emails(campaign_id)
        return self

    def export(self) -> dict[str, Any]:
        """Everything the workspace holds, as JSON-ready data (for determinism checks)."""
        return {
            "workspace": self.workspace,
            "campaigns": self.campaigns,
            "accounts": self.accounts,
            "leads": self.leads(),
            "emails": self.emails(),
            "campaign_analytics": self.campaign_analytics(),
            "campaign_daily_analytics": self.campaign_daily_analytics(),
            "campaign_step_analytics": self.campaign_step_analytics(),
            "account_daily_analytics": self.account_daily_analytics(),
            "webhooks": list(self.webhooks.values()),
        }

    # --- analytics -------------------------------------------------------------------------

    def campaign_analytics(
        self,
        ids: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[dict[str, Any]]:
        """Totals per campaign; a campaign that never sent has no row (as in Instantly)."""
        wanted = list(self._campaigns) if ids is None else [i for i in ids if i in self._campaigns]
        rows = []
        for campaign_id in wanted:
            campaign = self._campaigns[campaign_id]
            data = self._campaign_data(campaign_id)
            if not any(a.kind == "sent" for a in data.activity):
                continue
            tally = _tally(_in_range(data.activity, start, end), lambda a: "all").get("all")
            tally = tally or _Tally()
            opportunities = len(tally.opportunities)
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "campaign_name": campaign["name"],
                    "campaign_status": campaign["status"],
                    "campaign_is_evergreen": campaign["is_evergreen"],
                    "leads_count": len(data.leads),
                    "contacted_count": len(tally.contacted),
                    "new_leads_contacted_count": len(tally.new_leads),
                    "emails_sent_count": tally.sent,
                    "open_count": tally.opened,
                    "open_count_unique": len(tally.unique_opened),
                    "reply_count": tally.replies,
                    "reply_count_unique": len(tally.unique_replies),
                    "reply_count_automatic": tally.auto_replies,
                    "link_click_count": tally.clicks,
                    "link_click_count_unique": len(tally.unique_clicks),
                    "bounced_count": tally.bounced,
                    "unsubscribed_count": tally.unsubscribed,
                    "completed_count": sum(
                        1 for lead in data.leads.values() if lead["status"] == 3
                    ),
                    "total_opportunities": opportunities,
                    "total_opportunity_value": opportunities * campaign["pl_value"],
                }
            )
        return rows

    def campaign_daily_analytics(
        self, campaign_id: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """One row per day with activity, for one campaign or the whole workspace."""
        ids = list(self._campaigns) if campaign_id is None else [self.campaign(campaign_id)["id"]]
        activity = [a for cid in ids for a in self._campaign_data(cid).activity]
        tallies = _tally(_in_range(activity, start, end), lambda a: a.at.date().isoformat())
        return [{"date": day, **tallies[day].daily_row()} for day in sorted(tallies)]

    def campaign_step_analytics(
        self, campaign_id: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """One row per (step, variant), both zero-based strings as Instantly reportedly sends."""
        ids = list(self._campaigns) if campaign_id is None else [self.campaign(campaign_id)["id"]]
        activity = [a for cid in ids for a in self._campaign_data(cid).activity]
        tallies = _tally(_in_range(activity, start, end), lambda a: (a.step, a.variant))
        return [
            {
                "step": str(step - 1),
                "variant": str(variant - 1),
                **tallies[(step, variant)].step_row(),
            }
            for step, variant in sorted(tallies)
        ]

    def account_daily_analytics(
        self,
        emails: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[dict[str, Any]]:
        """One row per (day, mailbox) with activity, optionally for some mailboxes only."""
        wanted = None if emails is None else set(emails)
        self._build_all()
        activity = [
            a
            for data in self._data.values()
            for a in data.activity
            if wanted is None or a.eaccount in wanted
        ]
        tallies = _tally(_in_range(activity, start, end), lambda a: (a.at.date(), a.eaccount))
        return [
            {
                "date": day.isoformat(),
                "email_account": account,
                **tallies[(day, account)].account_row(),
            }
            for day, account in sorted(tallies)
        ]

    # --- writes ----------------------------------------------------------------------------

    def add_lead(self, campaign_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create one lead as POST /leads does; ValueError on bad input, NotFound on campaign."""
        email = fields.get("email")
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise ValueError('body/email must match format "email"')
        variables = fields.get("custom_variables") or {}
        if not _is_flat(variables):
            raise ValueError("body/custom_variables values must be strings, numbers or booleans")
        data = self._campaign_data(self.campaign(campaign_id)["id"])
        lead_id, _, ts = self._new_id()
        lead = {
            "id": lead_id,
            "timestamp_created": ts,
            "timestamp_updated": ts,
            "organization": self.workspace["id"],
            "campaign": campaign_id,
            "email": email.lower(),
            "status": 1,
            "verification_status": 0,
            "upload_method": "api",
            "uploaded_by": self.workspace["owner"],
            "email_open_count": 0,
            "email_reply_count": 0,
            "email_click_count": 0,
            "payload": dict(variables),
        }
        for name in (
            "first_name",
            "last_name",
            "company_name",
            "website",
            "phone",
            "personalization",
        ):
            if fields.get(name) is not None:
                lead[name] = str(fields[name])
        data.leads[lead_id] = lead
        self._lead_campaign[lead_id] = campaign_id
        return lead

    def add_leads(
        self,
        campaign_id: str,
        leads: list[Any],
        skip_if_in_workspace: bool = False,
    ) -> dict[str, Any]:
        """Bulk add as POST /leads/add does: count what was uploaded and why the rest was not."""
        data = self._campaign_data(self.campaign(campaign_id)["id"])
        in_campaign = {lead["email"] for lead in data.leads.values()}
        in_workspace = {lead["email"] for lead in self.leads()} if skip_if_in_workspace else set()
        counts = dict.fromkeys(
            ("in_blocklist", "duplicated_leads", "invalid_email_count", "skipped_count"), 0
        )
        created = []
        for index, item in enumerate(leads):
            email = item.get("email") if isinstance(item, dict) else None
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                counts["invalid_email_count"] += 1
                continue
            email = email.lower()
            if email.split("@")[1] in BLOCKED_DOMAINS:
                counts["in_blocklist"] += 1
            elif email in in_campaign:
                counts["duplicated_leads"] += 1
            elif email in in_workspace or not _is_flat(item.get("custom_variables") or {}):
                counts["skipped_count"] += 1
            else:
                lead = self.add_lead(campaign_id, {**item, "email": email})
                in_campaign.add(email)
                created.append({"id": lead["id"], "email": email, "index": index})
        return {
            "status": "success",
            "total_sent": len(leads),
            "leads_uploaded": len(created),
            "blocklist_used": bool(counts["in_blocklist"]),
            **counts,
            "created_leads": created,
        }

    def delete_lead(self, lead_id: str) -> dict[str, Any]:
        lead = self.lead(lead_id)
        del self._data[self._lead_campaign.pop(lead_id)].leads[lead_id]
        return lead

    def reply(
        self, reply_to_uuid: str, eaccount: str, subject: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Record a manual reply (ue_type 3) in the thread of `reply_to_uuid`."""
        original = self.email(reply_to_uuid)
        self.account(eaccount)
        text, html = body.get("text"), body.get("html")
        if not isinstance(text, str) and not isinstance(html, str):
            raise ValueError("body/body must have a text or an html string")
        email_id, at, _ = self._new_id()
        campaign = self._campaigns[original["campaign_id"]]
        lead = {"id": original["lead_id"], "email": original["lead"]}
        text = text if isinstance(text, str) else _text_of(html)
        row = self._unibox_row(
            email_id,
            at - self._shift,
            campaign,
            lead,
            original["thread_id"],
            UE_MANUAL,
            sender=eaccount,
            to=original["lead"],
            subject=subject,
            text=text,
            html=html if isinstance(html, str) else _html(text),
            step=None,
        )
        self._campaign_emails(campaign["id"]).append(row)
        self._email_index[email_id] = row
        return row

    # --- webhook subscriptions ---------------------------------------------------------------

    def webhook(self, webhook_id: str) -> dict[str, Any]:
        try:
            return self.webhooks[webhook_id]
        except KeyError:
            raise NotFound(f"Webhook {webhook_id} not found")

    def create_webhook(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Subscribe a URL; the server has already checked `event_type` against the list."""
        webhook_id, _, ts = self._new_id()
        webhook = {
            "id": webhook_id,
            "timestamp_created": ts,
            "timestamp_updated": ts,
            "organization": self.workspace["id"],
            "name": None,
            "campaign": None,
            "event_type": "all_events",
            "target_hook_url": None,
            "headers": {},
            "status": 1,
            "timestamp_error": None,
        }
        self._apply_webhook_fields(webhook, fields)
        if not webhook["target_hook_url"]:
            raise ValueError("body must have required property 'target_hook_url'")
        self.webhooks[webhook_id] = webhook
        return webhook

    def update_webhook(self, webhook_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        webhook = self.webhook(webhook_id)
        updated = dict(webhook)
        self._apply_webhook_fields(updated, fields)
        updated["timestamp_updated"] = self._new_id()[2]
        webhook.update(updated)
        return webhook

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self.webhooks.pop(self.webhook(webhook_id)["id"])

    def set_webhook_status(self, webhook_id: str, active: bool) -> dict[str, Any]:
        """Resume (active) or disable a subscription, as Instantly does after failed deliveries."""
        webhook = self.webhook(webhook_id)
        ts = self._new_id()[2]
        webhook["status"] = 1 if active else -1
        webhook["timestamp_error"] = None if active else ts
        webhook["timestamp_updated"] = ts
        return webhook

    def _apply_webhook_fields(self, webhook: dict[str, Any], fields: Mapping[str, Any]) -> None:
        if "target_hook_url" in fields:
            url = fields["target_hook_url"]
            if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
                raise ValueError('body/target_hook_url must match format "uri"')
            webhook["target_hook_url"] = url
        if "headers" in fields:
            headers = fields["headers"] or {}
            if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
            ):
                raise ValueError("body/headers must be an object of string values")
            webhook["headers"] = dict(headers)
        if "campaign" in fields:
            campaign = fields["campaign"]
            webhook["campaign"] = None if campaign is None else self.campaign(campaign)["id"]
        for name in ("name", "event_type"):
            if name in fields:
                webhook[name] = fields[name]


# --- tallies ---------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Counters of one analytics bucket; sets hold lead ids for the unique counts."""

    sent: int = 0
    opened: int = 0
    replies: int = 0
    auto_replies: int = 0
    clicks: int = 0
    bounced: int = 0
    unsubscribed: int = 0
    contacted: set = field(default_factory=set)
    new_leads: set = field(default_factory=set)
    unique_opened: set = field(default_factory=set)
    unique_replies: set = field(default_factory=set)
    unique_auto_replies: set = field(default_factory=set)
    unique_clicks: set = field(default_factory=set)
    opportunities: set = field(default_factory=set)

    def add(self, a: Activity) -> None:
        if a.kind == "sent":
            self.sent += 1
            self.contacted.add(a.lead_id)
            if a.step == 1:
                self.new_leads.add(a.lead_id)
        elif a.kind == "opened":
            self.opened += 1
            self.unique_opened.add(a.lead_id)
        elif a.kind == "clicked":
            self.clicks += 1
            self.unique_clicks.add(a.lead_id)
        elif a.kind == "replied":
            self.replies += 1
            self.unique_replies.add(a.lead_id)
        elif a.kind == "auto_replied":
            self.auto_replies += 1
            self.unique_auto_replies.add(a.lead_id)
        elif a.kind == "bounced":
            self.bounced += 1
        elif a.kind == "unsubscribed":
            self.unsubscribed += 1
        elif a.kind == "interest" and a.value == OPPORTUNITY:
            self.opportunities.add(a.lead_id)

    def step_row(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "opened": self.opened,
            "unique_opened": len(self.unique_opened),
            "replies": self.replies,
            "unique_replies": len(self.unique_replies),
            "replies_automatic": self.auto_replies,
            "unique_replies_automatic": len(self.unique_auto_replies),
            "clicks": self.clicks,
            "unique_clicks": len(self.unique_clicks),
            "opportunities": len(self.opportunities),
            "unique_opportunities": len(self.opportunities),
        }

    def daily_row(self) -> dict[str, int]:
        return {
            "contacted": len(self.contacted),
            "new_leads_contacted": len(self.new_leads),
            **self.step_row(),
        }

    def account_row(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "bounced": self.bounced,
            "contacted": len(self.contacted),
            "new_leads_contacted": len(self.new_leads),
            "opened": self.opened,
            "unique_opened": len(self.unique_opened),
            "replies": self.replies,
            "unique_replies": len(self.unique_replies),
            "replies_automatic": self.auto_replies,
            "unique_replies_automatic": len(self.unique_auto_replies),
            "clicks": self.clicks,
            "unique_clicks": len(self.unique_clicks),
        }


COUNTED_KINDS = frozenset(
    {"sent", "opened", "clicked", "replied", "auto_replied", "bounced", "unsubscribed"}
)


def _tally(activity: Iterable[Activity], key) -> dict[Any, _Tally]:
    """Bucket activity by `key`; only activity that moves a counter opens a bucket."""
    tallies: dict[Any, _Tally] = {}
    for a in activity:
        if a.kind not in COUNTED_KINDS and not (a.kind == "interest" and a.value == OPPORTUNITY):
            continue
        bucket = key(a)
        tally = tallies.get(bucket)
        if tally is None:
            tally = tallies[bucket] = _Tally()
        tally.add(a)
    return tallies


def _in_range(activity: Iterable[Activity], start: date | None, end: date | None):
    for a in activity:
        day = a.at.date()
        if (start is None or day >= start) and (end is None or day <= end):
            yield a


def _reply_key(interest: int | None, kind: str) -> int | None:
    if kind == "auto_replied":
        return 0
    if interest in (1, 2, 3, 4, -3, -4):
        return 1
    return interest if interest in REPLY_TEXTS else None


def _is_flat(variables: Any) -> bool:
    """Instantly accepts custom variables with flat values only (no objects or arrays)."""
    return isinstance(variables, dict) and all(
        value is None or isinstance(value, str | int | float | bool) for value in variables.values()
    )
