"""Webhook traffic the way Instantly sends it, drawn from a sandbox workspace.

Instantly POSTs one flat JSON object per event and signs nothing; the receiver must authenticate
a custom header, accept every delivered spelling (alternate spellings, custom lead labels by
their name) and cope with duplicates and events out of order. Only documented event types and
payload shapes are sent: no `campaign_started`/`campaign_paused` (campaign state comes from the
sync), `unibox_url` on replies only and in both of its real forms (`thread_search=thread:<id>`
and the older `thread_search=<lead email>`), `is_first` sometimes absent, the lead's custom
variables merged in flat. Where Instantly's documentation is silent (which fields
`account_error`, `campaign_completed` and `email_bounced` carry), the shapes are unconfirmed.
`generate_deliveries` produces exactly that traffic from the workspace's lead stories (sent
before opened before replied), so the ids in it (campaigns, email ids to reply to) also exist in
the sandbox API; `post_deliveries` fires it at a URL at a chosen rate.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import requests

from instantly.sandbox.data import HISTORY_DAYS, Activity, SandboxWorkspace
from instantly.sandbox.data.leads import CUSTOM_LABELS

# What a subscription can ask for (Instantly's documented values).
SUBSCRIPTION_EVENT_TYPES = (
    "email_sent",
    "email_opened",
    "email_link_clicked",
    "reply_received",
    "email_bounced",
    "lead_unsubscribed",
    "campaign_completed",
    "account_error",
    "lead_neutral",
    "lead_interested",
    "lead_not_interested",
    "lead_meeting_booked",
    "lead_meeting_completed",
    "lead_closed",
    "lead_out_of_office",
    "lead_wrong_person",
    "lead_no_show",
    "supersearch_enrichment_completed",
)
# Spellings seen in real deliveries that differ from the subscription value.
ALTERNATE_SPELLINGS = ("link_clicked", "auto_reply_received")
# Older internal names a receiver must still accept; never sent (no Instantly event has them).
LEGACY_ALIASES = (
    "email_clicked",
    "email_unsubscribed",
    "email_spam_report",
    "lead_completed",
    "lead_error",
    "campaign_started",
    "campaign_paused",
    "account_suspended",
)
# A custom lead label arrives with the label's name as its event_type, however it is spelled.
CUSTOM_LABEL = CUSTOM_LABELS[0]["label"]  # "Hot Prospect"
CUSTOM_LABEL_NAMES = tuple(label["label"] for label in CUSTOM_LABELS)
# Every event_type the sandbox sends.
ALL_EVENT_TYPES = (*SUBSCRIPTION_EVENT_TYPES, *ALTERNATE_SPELLINGS, *CUSTOM_LABEL_NAMES)

WEBHOOK_AUTH_HEADER = "X-Salesbrain-Webhook-Secret"

# lt_interest_status -> event; "lost" (-3) has no event of its own; a custom label's value
# sends the label's name.
INTEREST_EVENTS = {
    **{label["interest_status"]: label["label"] for label in CUSTOM_LABELS},
    1: "lead_interested",
    2: "lead_meeting_booked",
    3: "lead_meeting_completed",
    4: "lead_closed",
    0: "lead_out_of_office",
    -1: "lead_not_interested",
    -2: "lead_wrong_person",
    -4: "lead_no_show",
}
# (spellings, weights once each spelling has been used at least once).
CLICK_SPELLINGS = (("email_link_clicked", "link_clicked"), (6, 3))
CAMPAIGNS_PER_CHUNK = 5
# The Unibox link of a reply, in its two real forms (the older one names the lead, no thread).
UNIBOX_URL = "https://app.instantly.ai/app/unibox?thread_search=thread:{thread_id}"
UNIBOX_URL_BY_EMAIL = "https://app.instantly.ai/app/unibox?thread_search={email}"
UNIBOX_BY_EMAIL_SHARE = 0.3


def generate_deliveries(
    workspace: SandboxWorkspace,
    count: int,
    seed: int = 1,
    event_types: Iterable[str] | None = None,
    duplicate_ratio: float = 0.0,
    out_of_order_ratio: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """Yield `count` webhook payloads in Instantly's flat shape, deterministically per seed.

    Each lead's events come in story order (sent, opened, clicked, replied, labelled); about
    `duplicate_ratio` of the deliveries repeat a recent one byte for byte (a retry) and about
    `out_of_order_ratio` of them arrive 1-3 places late. `event_types` keeps only those types.
    When the workspace runs out of stories it replays them 30 days earlier with fresh lead
    addresses (`+r1`, `+r2`, ...) and email ids, so any count can be asked for.
    """
    wanted = None if event_types is None else set(event_types)
    unknown = (wanted or set()) - set(ALL_EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(sorted(unknown))}")
    if not 0 <= duplicate_ratio < 1 or not 0 <= out_of_order_ratio < 1:
        raise ValueError("duplicate_ratio and out_of_order_ratio must be in [0, 1)")
    rng = random.Random(f"{seed}:deliveries")
    fresh = _fresh_deliveries(workspace, rng, wanted)
    return _deliver(fresh, rng, count, duplicate_ratio, out_of_order_ratio)


def _deliver(
    fresh: Iterator[dict[str, Any]],
    rng: random.Random,
    count: int,
    duplicate_ratio: float,
    out_of_order_ratio: float,
) -> Iterator[dict[str, Any]]:
    """Mix retries and late deliveries into the fresh, story-ordered stream."""
    recent: deque[dict[str, Any]] = deque(maxlen=20)
    held: list[tuple[int, int, dict[str, Any]]] = []  # (release position, tie-break, delivery)
    produced = 0
    while produced < count:
        if held and held[0][0] <= produced:
            delivery = held.pop(0)[2]
        elif recent and rng.random() < duplicate_ratio:
            delivery = dict(rng.choice(recent))
        else:
            delivery = next(fresh)
            if rng.random() < out_of_order_ratio:
                held.append((produced + rng.randint(1, 3), produced, delivery))
                held.sort(key=lambda item: item[:2])
                continue
        recent.append(delivery)
        produced += 1
        yield delivery


def _fresh_deliveries(
    workspace: SandboxWorkspace, rng: random.Random, wanted: set[str] | None
) -> Iterator[dict[str, Any]]:
    """Every story of the workspace as deliveries, a few campaigns at a time in time order."""
    speller = _Speller(rng)
    unhealthy = [a for a in workspace.accounts if a["status"] < 0 or a["warmup_status"] == -3]
    campaigns = workspace.campaigns
    chunk_number = 0
    for replay in itertools.count():
        emitted = 0
        for start in range(0, len(campaigns), CAMPAIGNS_PER_CHUNK):
            builder = _Builder(workspace, rng, speller, replay)
            for campaign in campaigns[start : start + CAMPAIGNS_PER_CHUNK]:
                builder.add_campaign(campaign)
            if unhealthy and builder.events:
                builder.add_account_event(
                    campaigns[start], unhealthy[chunk_number % len(unhealthy)]
                )
            chunk_number += 1
            for delivery in builder.in_time_order():
                if wanted is None or delivery["event_type"] in wanted:
                    emitted += 1
                    yield delivery
        if emitted == 0:
            raise ValueError("this workspace produces none of the requested event types")


class _Speller:
    """Picks among spellings of one event, using each at least once before going by weight."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def pick(self, spellings: tuple[tuple[str, ...], tuple[int, ...]]) -> str:
        options, weights = spellings
        unused = [option for option in options if option not in self.used]
        choice = unused[0] if unused else self.rng.choices(options, weights)[0]
        self.used.add(choice)
        return choice

    def first_time(self, event_type: str) -> bool:
        """True once per event type, so rare events show up early in any stream."""
        if event_type in self.used:
            return False
        self.used.add(event_type)
        return True


class _Builder:
    """Deliveries of a few campaigns for one replay, kept with their time for sorting."""

    def __init__(
        self, workspace: SandboxWorkspace, rng: random.Random, speller: _Speller, replay: int
    ) -> None:
        self.workspace = workspace
        self.rng = rng
        self.speller = speller
        self.replay = replay
        self.shift = timedelta(days=-HISTORY_DAYS * replay)
        self.events: list[tuple[datetime, int, dict[str, Any]]] = []

    def in_time_order(self) -> list[dict[str, Any]]:
        return [delivery for _, _, delivery in sorted(self.events, key=lambda e: e[:2])]

    def _emit(self, at: datetime, delivery: dict[str, Any]) -> None:
        self.events.append((at, len(self.events), delivery))

    def _id(self, value: str) -> str:
        """Ids of a replay are new, but the same for the same seed."""
        if not self.replay:
            return value
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{value}#{self.replay}"))

    def _base(self, event_type: str, at: datetime, campaign: dict[str, Any]) -> dict[str, Any]:
        at = at + self.shift
        return {
            "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event_type": event_type,
            "workspace": self.workspace.workspace["id"],
            "campaign_id": campaign["id"],
            "campaign_name": campaign["name"],
        }

    # --- campaign and account events -------------------------------------------------------

    def add_campaign(self, campaign: dict[str, Any]) -> None:
        stories = self.workspace.stories(campaign["id"])
        times = [a.at for _, _, activity in stories for a in activity]
        if not times:
            return
        last = max(times)
        for lead, thread_id, activity in stories:
            self._add_lead(campaign, lead, thread_id, activity)
        if campaign["status"] == 3:  # Instantly has no started or paused event
            at = last + timedelta(hours=1)
            self._emit(at, self._base("campaign_completed", at, campaign))

    def add_account_event(self, campaign: dict[str, Any], account: dict[str, Any]) -> None:
        at = max(at for at, _, _ in self.events) - timedelta(minutes=self.rng.uniform(5, 600))
        delivery = self._base("account_error", at, campaign)  # its fields are unconfirmed
        delivery["email_account"] = account["email"]
        message = (account.get("status_message") or {}).get("e_message")
        delivery["error_message"] = message or "Account suspended by the email provider"
        self._emit(at, delivery)

    # --- lead events -----------------------------------------------------------------------

    def _add_lead(
        self,
        campaign: dict[str, Any],
        lead: dict[str, Any],
        thread_id: str,
        activity: list[Activity],
    ) -> None:
        if not activity:
            return
        email = lead["email"]
        if self.replay:
            local, domain = email.split("@")
            email = f"{local}+r{self.replay}@{domain}"
        context = (campaign, lead, email, self._id(thread_id))
        enrichment = "supersearch_enrichment_completed"
        if self.speller.first_time(enrichment) or self.rng.random() < 0.1:
            at = activity[0].at - timedelta(hours=2)
            delivery = self._base(enrichment, at, campaign)
            delivery.update(lead_email=email, email=email, **_custom_variables(lead))
            self._emit(at, delivery)
        for a in activity:
            event_type = self._event_type(a, lead)
            if event_type is None:
                continue
            self._emit(a.at, self._lead_delivery(event_type, a, context))
            if event_type == "reply_received" and lead.get("lt_interest_status") is None:
                at = a.at + timedelta(seconds=self.rng.uniform(60, 600))
                self._emit(at, self._lead_delivery("lead_neutral", a, context, at))

    def _event_type(self, a: Activity, lead: dict[str, Any]) -> str | None:
        if a.kind == "clicked":
            return self.speller.pick(CLICK_SPELLINGS)
        if a.kind == "interest":
            return INTEREST_EVENTS.get(a.value)
        # A lead finishing its sequence or being skipped has no Instantly event.
        return {
            "sent": "email_sent",
            "opened": "email_opened",
            "replied": "reply_received",
            "auto_replied": "auto_reply_received",
            "bounced": "email_bounced",
            "unsubscribed": "lead_unsubscribed",
        }.get(a.kind)

    def _lead_delivery(
        self,
        event_type: str,
        a: Activity,
        context: tuple[dict[str, Any], dict[str, Any], str, str],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        campaign, lead, email, thread_id = context
        delivery = self._base(event_type, at or a.at, campaign)
        # Instantly has been seen sending step and variant as strings as well as numbers.
        as_text = self.rng.random() < 0.2
        delivery.update(
            lead_email=email,
            email=email,
            email_account=a.eaccount,
            step=str(a.step) if as_text else a.step,
            variant=str(a.variant) if as_text else a.variant,
        )
        if a.kind == "sent" and event_type == "email_sent":
            row = self.workspace.email(a.email_id)
            delivery.update(
                email_id=self._id(a.email_id),
                email_subject=row["subject"],
                email_text=row["body"]["text"],
                email_html=row["body"]["html"],
            )
            if self.rng.random() < 0.7:  # is_first is sometimes missing
                delivery["is_first"] = a.step == 1
        elif a.kind in ("replied", "auto_replied") and event_type in (
            "reply_received",
            "auto_reply_received",
        ):
            row = self.workspace.email(a.email_id)
            text = row["body"]["text"]
            by_email = self.rng.random() < UNIBOX_BY_EMAIL_SHARE
            delivery.update(
                email_id=self._id(a.email_id),
                reply_subject=row["subject"],
                reply_text=text,
                reply_html=row["body"]["html"],
                reply_text_snippet=text[:100],
                unibox_url=(
                    UNIBOX_URL_BY_EMAIL.format(email=email)
                    if by_email
                    else UNIBOX_URL.format(thread_id=thread_id)
                ),
            )
            if self.rng.random() < 0.7:
                delivery["is_first"] = True
        delivery.update(_custom_variables(lead))
        return delivery


def _custom_variables(lead: dict[str, Any]) -> dict[str, str]:
    """The lead's custom variables, merged into payloads as top-level string fields."""
    return {name: str(value) for name, value in (lead.get("payload") or {}).items()}


def post_deliveries(
    url: str,
    deliveries: Iterable[dict[str, Any]],
    secret: str | None,
    rate: float | None = None,
    header: str = WEBHOOK_AUTH_HEADER,
    session: requests.Session | None = None,
    *,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[int | str, int]:
    """POST each delivery as JSON with the secret header; answer counts by status code.

    `rate` is deliveries per second (None: as fast as the receiver answers; posts are
    sequential, so a slow receiver caps the rate). A secret of None sends no header, to test
    the unauthenticated path. Connection failures are counted under "error".
    """
    own_session = session is None
    session = session or requests.Session()
    headers = {header: secret} if secret is not None else {}
    counts: Counter[int | str] = Counter()
    started = clock()
    try:
        for index, delivery in enumerate(deliveries):
            if rate:
                wait = started + index / rate - clock()
                if wait > 0:
                    sleep(wait)
            try:
                response = session.post(url, json=delivery, headers=headers, timeout=timeout)
            except requests.RequestException:
                counts["error"] += 1
                continue
            counts[response.status_code] += 1
    finally:
        if own_session:
            session.close()
    return dict(counts)
