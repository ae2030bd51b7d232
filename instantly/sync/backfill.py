"""History backfill: the Unibox and the lead lists a workspace had before its subscription.

Webhooks report what happens from the moment of subscription; a workspace connected after
months of sending would show an empty inbox and no leads. The backfill reads them from the API:

- Leads: `POST /api/v2/leads/list` per campaign, written with the same `campaigns.recording`
  calls as webhook-created leads (contact per organization and address, lead per campaign and
  contact); status and interest move forward only (by the lead's `timestamp_updated`), the
  whole Instantly object is kept in `Lead.raw` (a custom interest value included: it is kept as
  `interest_label` beside the CUSTOM status when no documented code matches).
- Emails: `GET /api/v2/emails` newest first, a page of 100 at a time, under the Unibox's own
  limit (20 requests a minute, a separate bucket of the shared limiter). Messages are keyed
  like webhook messages: thread per (campaign, contact) carrying Instantly's `thread_id` (the
  `thread:<id>` of a delivery's `unibox_url`), message per (campaign, Instantly email id), so a
  reply that arrives both ways is one message: if the webhook came first the backfill leaves it
  alone; if the backfill came first the webhook adopts it (and counts it then).

Emails are read in passes (`HistoryBackfill`): a pass walks pages until it reaches emails the
last complete pass already had, minus `EMAILS_OVERLAP` (a reply can be indexed after newer
mail); each page's rows and the next cursor are written in one transaction, so an interrupted
pass resumes at the next page, and a finished one moves the high-water mark. Counters
(`CampaignDailyStat`) are left alone: Instantly's analytics (the sync) cover history, and a
webhook that later reports a backfilled email counts it then.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns import recording as campaigns
from campaigns.models import Campaign, InterestStatus, LeadLabel
from instantly import codes
from instantly.client import InstantlyClient
from instantly.connections import shared_limiter
from instantly.history_api import EMAILS_LIMIT, emails_page, leads_page
from instantly.limiter import RateLimit, RateLimiter
from instantly.models import HistoryBackfill, ProviderConnection
from instantly.schemas import Lead as InstantlyLead
from instantly.schemas import UniboxEmail
from instantly.webhooks.events import normalise_email
from messaging import recording as messaging
from messaging import reply_categories as categorised
from messaging.models import Message
from salesbrain.bulk import columns, execute

from .results import Progress, silent

logger = logging.getLogger(__name__)

# How far back of the last pass's newest email a new pass still reads (writes are idempotent,
# so the overlap costs a page at most).
EMAILS_OVERLAP = dt.timedelta(hours=1)
UE_CAMPAIGN, UE_RECEIVED, UE_MANUAL, UE_SCHEDULED = 1, 2, 3, 4


@dataclasses.dataclass
class BackfillResult:
    """What one backfill run did."""

    email_pages: int = 0
    emails_fetched: int = 0
    emails_written: int = 0
    emails_skipped: int = 0
    lead_pages: int = 0
    leads_fetched: int = 0
    pass_finished: bool = False

    def summary(self) -> str:
        return (
            f"history: {self.emails_fetched} email(s) read in {self.email_pages} page(s), "
            f"{self.emails_written} new, {self.emails_skipped} skipped; "
            f"{self.leads_fetched} lead(s) in {self.lead_pages} page(s)"
        )


def emails_limiter() -> RateLimiter:
    """The Unibox's own budget, shared by every process of the deployment (Redis)."""
    return shared_limiter((RateLimit(settings.INSTANTLY_EMAILS_PER_MINUTE, EMAILS_LIMIT.period),))


def backfill_history(
    connection: ProviderConnection,
    client: InstantlyClient,
    *,
    leads: bool | None = None,
    limiter: RateLimiter | None = None,
    max_pages: int | None = None,
    progress: Progress | None = None,
) -> BackfillResult:
    """Read what is new in the workspace's history and write it; safe to interrupt.

    `leads` None lists leads only on the first backfill (the lead lists have no "changed since"
    filter: a full listing costs a request per 100 leads); `instantly_sync --history` passes
    True. `max_pages` bounds the email pages of this run (a pass left open resumes next time).
    """
    say = progress or silent
    result = BackfillResult()
    state = _state(connection)
    if leads or (leads is None and state.leads_synced_at is None):
        _backfill_leads(connection, client, state, result)
        say(f"history: {result.leads_fetched} lead(s) in {result.lead_pages} page(s)")
    _backfill_emails(
        connection,
        client,
        state,
        result,
        limiter=limiter if limiter is not None else emails_limiter(),
        max_pages=max_pages,
        say=say,
    )
    say(result.summary())
    return result


def _state(connection: ProviderConnection) -> HistoryBackfill:
    with staff_scope():
        state, _ = HistoryBackfill.objects.unscoped().get_or_create(
            connection=connection, defaults={"organization_id": connection.organization_id}
        )
    return state


# --- emails ----------------------------------------------------------------------------------


def _backfill_emails(
    connection: ProviderConnection,
    client: InstantlyClient,
    state: HistoryBackfill,
    result: BackfillResult,
    *,
    limiter: RateLimiter,
    max_pages: int | None,
    say: Progress,
) -> None:
    if not state.emails_pass_open:
        state.emails_pass_open = True
        state.emails_cursor = ""
        state.emails_pass_newest = None
        state.emails_pass_until = (
            state.emails_newest_at - EMAILS_OVERLAP if state.emails_newest_at else None
        )
        _save(state)
    writer = EmailWriter(connection)
    while max_pages is None or result.email_pages < max_pages:
        page = emails_page(client, state.emails_cursor, limiter=limiter)
        until = state.emails_pass_until
        fresh = [e for e in page.items if until is None or _when(e) is None or _when(e) > until]
        reached_known = len(fresh) < len(page.items)
        newest = max((w for w in map(_when, page.items) if w), default=None)
        with staff_scope():
            written, skipped = writer.write(fresh)
            state.emails_pass_newest = _latest(state.emails_pass_newest, newest)
            state.emails_cursor = page.next_cursor
            state.emails_pages += 1
            state.emails_fetched += len(page.items)
            state.emails_written += written
            finished = reached_known or not page.next_cursor
            if finished:
                _close_pass(state)
            _save(state)  # in the page's transaction: rows and cursor commit together
        result.email_pages += 1
        result.emails_fetched += len(page.items)
        result.emails_written += written
        result.emails_skipped += skipped
        if result.email_pages % 50 == 0:
            say(f"history: {result.emails_fetched} email(s) read, {result.emails_written} new")
        if finished:
            result.pass_finished = True
            return


def _close_pass(state: HistoryBackfill) -> None:
    state.emails_newest_at = _latest(state.emails_newest_at, state.emails_pass_newest)
    state.emails_pass_open = False
    state.emails_cursor = ""
    state.emails_pass_newest = None
    if state.emails_first_done_at is None:
        state.emails_first_done_at = timezone.now()


def _save(state: HistoryBackfill) -> None:
    with staff_scope():
        state.save()


def _when(email: UniboxEmail) -> dt.datetime | None:
    """When Instantly stored the email (its creation, else the email's own date)."""
    return email.timestamp_created or email.timestamp_email


def _latest(*moments: dt.datetime | None) -> dt.datetime | None:
    return max((m for m in moments if m is not None), default=None)


class EmailWriter:
    """Writes Unibox emails the way webhook processing writes the emails it is told about."""

    def __init__(self, connection: ProviderConnection, now: Callable[[], Any] = timezone.now):
        self.connection = connection
        self.now = now

    def write(self, emails: list[UniboxEmail]) -> tuple[int, int]:
        """Write one page (inside the caller's `staff_scope()`); answer (new, skipped)."""
        usable = [e for e in emails if _usable(e)]
        skipped = len(emails) - len(usable)
        if not usable:
            return 0, skipped
        conn_id, conn_org = self.connection.pk, self.connection.organization_id
        found = campaigns.ensure_campaigns(
            {(conn_id, e.campaign_id): ("", conn_org) for e in usable}
        )
        camp = {e.id: found[(conn_id, e.campaign_id)] for e in usable}
        mailboxes = campaigns.ensure_mailboxes(
            {(conn_id, _mailbox(e)): conn_org for e in usable if _mailbox(e)}
        )
        contacts = campaigns.ensure_contacts(
            {(camp[e.id].organization_id, _lead(e)): campaigns.ContactDetails() for e in usable}
        )
        contact = {e.id: contacts[(camp[e.id].organization_id, _lead(e))] for e in usable}
        leads = campaigns.ensure_leads(
            {(camp[e.id].id, contact[e.id]): camp[e.id].organization_id for e in usable}
        )
        oldest_first = sorted(usable, key=lambda e: (_sent_at(e), e.id))
        threads = messaging.ensure_threads(
            {
                (camp[e.id].id, contact[e.id]): messaging.ThreadSeed(
                    camp[e.id].organization_id,
                    leads[(camp[e.id].id, contact[e.id])],
                    _subject(e),
                    (e.thread_id or "")[:64],
                )
                for e in reversed(oldest_first)  # the earliest email's subject wins
            }
        )
        senders = {}
        rows = []
        thread_ids = {
            threads[(camp[e.id].id, contact[e.id])]: (e.thread_id or "")[:64] for e in usable
        }
        for e in oldest_first:
            campaign = camp[e.id]
            mailbox = mailboxes.get((conn_id, _mailbox(e)))
            if mailbox:
                senders[(campaign.id, mailbox)] = campaign.organization_id
            rows.append(
                self._message(
                    e, campaign, contact[e.id], threads[(campaign.id, contact[e.id])], mailbox
                )
            )
        campaigns.link_senders(senders)
        new = {email_id: pk for pk, email_id in messaging.record_history(rows)}
        changes: dict[int, messaging.ThreadChange] = defaultdict(messaging.ThreadChange)
        last_activity: dict[int, dt.datetime] = {}
        for row in rows:
            if row["instantly_email_id"] not in new:
                continue
            change = changes[row["thread_id"]]
            change.lead_id = leads[(row["campaign_id"], row["contact_id"])]
            change.instantly_thread_id = change.instantly_thread_id or thread_ids[row["thread_id"]]
            inbound = row["direction"] == Message.Direction.INBOUND
            change.add(
                row["sent_at"],
                inbound=inbound,
                reply=row["kind"] == Message.Kind.REPLY,
                subject=row["subject"],
            )
            lead_id = change.lead_id
            last_activity[lead_id] = max(row["sent_at"], last_activity.get(lead_id, row["sent_at"]))
        messaging.update_threads(changes)
        _mark_threads_read(changes, rows, new)
        categorised.show_history(
            [
                categorised.CategorisedReply(
                    message_id=new[row["instantly_email_id"]],
                    organization_id=row["organization_id"],
                    thread_id=row["thread_id"],
                    lead_id=leads[(row["campaign_id"], row["contact_id"])],
                    campaign_id=row["campaign_id"],
                    email=row["from_email"],
                    category=row.get("category", ""),
                    confidence=row.get("category_confidence") or 0.0,
                    returns_on=row.get("returns_on"),
                    at=row["sent_at"],
                )
                for row in rows
                if row["instantly_email_id"] in new
                and row["direction"] == Message.Direction.INBOUND
            ]
        )
        campaigns.touch_leads(last_activity)
        return len(new), skipped

    def _message(self, e: UniboxEmail, campaign, contact_id: int, thread_id: int, mailbox):
        inbound = e.ue_type == UE_RECEIVED
        kind = (
            (Message.Kind.AUTO_REPLY if e.is_auto_reply else Message.Kind.REPLY)
            if inbound
            else (Message.Kind.MANUAL if e.ue_type == UE_MANUAL else Message.Kind.CAMPAIGN)
        )
        body = e.body
        text = (body.text if body else None) or ""
        html = (body.html if body else None) or ""
        sent_at = _sent_at(e)
        lead, mailbox_address = _lead(e), _mailbox(e)
        category = (
            categorised.category_fields(
                subject=_subject(e),
                text=text,
                html=html,
                sent_at=sent_at,
                from_email=lead,
                now=self.now(),
            )  # fmt: skip
            if inbound
            else {}
        )
        return {
            **category,
            "organization_id": campaign.organization_id,
            "thread_id": thread_id,
            "campaign_id": campaign.id,
            "contact_id": contact_id,
            "email_account_id": mailbox,
            "direction": Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
            "kind": kind,
            "instantly_email_id": e.id[:64],
            "subject": _subject(e)[:500],
            "body_text": text,
            "body_html": html,
            "snippet": (e.content_preview or text)[:500],
            "from_email": (lead if inbound else mailbox_address)[:254],
            "to_email": (mailbox_address if inbound else lead)[:254],
            "step": _small(e.step),
            "variant": None,
            "sent_at": sent_at,
            "is_unread": bool(e.is_unread) if inbound else False,
            "raw": {"source": "backfill"},
            "source_event_id": None,
            "created_at": self.now(),
        }


def _mark_threads_read(changes, rows, new) -> None:
    """A thread whose backfilled replies are all read in Instantly is not unread here either
    (`update_threads` marks every thread with a new reply unread, right for live replies)."""
    unread: dict[int, bool] = {}
    for row in rows:
        if row["instantly_email_id"] in new and row["kind"] == Message.Kind.REPLY:
            unread[row["thread_id"]] = unread.get(row["thread_id"], False) or row["is_unread"]
    read = sorted(thread for thread, is_unread in unread.items() if not is_unread)
    if read:
        execute(
            "UPDATE messaging_thread SET is_unread = false WHERE id = ANY(%b::bigint[]) "
            "AND NOT EXISTS (SELECT 1 FROM messaging_message m WHERE m.thread_id = "
            "messaging_thread.id AND m.kind = 'reply' AND m.is_unread)",
            [read],
        )


def _usable(e: UniboxEmail) -> bool:
    """An email we can file: in a campaign, with a lead address, sent (not scheduled)."""
    return bool(
        e.campaign_id
        and len(e.campaign_id) <= 64
        and _address(_lead(e))
        and e.ue_type != UE_SCHEDULED
        and len(e.id) <= 64
    )


def _lead(e: UniboxEmail) -> str:
    """The lead's address, spelled as webhook processing spells it (`normalise_email`)."""
    if e.lead:
        return normalise_email(e.lead)
    address = e.from_address_email if e.ue_type == UE_RECEIVED else e.to_address_email_list
    return normalise_email((address or "").split(",")[0])


def _mailbox(e: UniboxEmail) -> str:
    address = normalise_email(e.eaccount)
    return address if len(address) <= 254 else ""


def _address(value: str | None) -> bool:
    return bool(value) and "@" in value and len(value) <= 254


def _subject(e: UniboxEmail) -> str:
    return e.subject or ""


def _sent_at(e: UniboxEmail) -> dt.datetime:
    return e.timestamp_email or e.timestamp_created or timezone.now()


def _small(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 32767 else None


# --- leads -----------------------------------------------------------------------------------


def _backfill_leads(
    connection: ProviderConnection,
    client: InstantlyClient,
    state: HistoryBackfill,
    result: BackfillResult,
) -> None:
    with staff_scope():
        campaign_ids = list(
            Campaign.objects.unscoped()
            .filter(connection_id=connection.pk, vanished_at__isnull=True)
            .order_by("instantly_id")
            .values_list("instantly_id", flat=True)
        )
    for campaign_id in campaign_ids:
        cursor = ""
        while True:
            page = leads_page(client, campaign_id, cursor)
            result.lead_pages += 1
            result.leads_fetched += len(page.items)
            with staff_scope():
                write_leads(connection, campaign_id, page.items)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    with staff_scope():
        state.leads_fetched = result.leads_fetched
        state.leads_synced_at = timezone.now()
        state.save()


def write_leads(
    connection: ProviderConnection, campaign_id: str, leads: list[InstantlyLead]
) -> list[int]:
    """Write one page of a campaign's leads (inside the caller's `staff_scope()`) with the
    writers of webhook-created leads; answer their ids."""
    usable = [lead for lead in leads if _address((lead.email or "").strip().lower())]
    if not usable:
        return []
    conn_id = connection.pk
    campaign = campaigns.ensure_campaigns(
        {(conn_id, campaign_id): ("", connection.organization_id)}
    )[(conn_id, campaign_id)]
    org = campaign.organization_id
    details: dict[tuple[Any, str], campaigns.ContactDetails] = {}
    for lead in usable:
        found = campaigns.ContactDetails(
            lead.first_name or "",
            lead.last_name or "",
            lead.company_name or "",
            _variables(lead.payload),
        )
        key = (org, lead.email.strip().lower())
        if key in details:
            details[key].merge(found)
        else:
            details[key] = found
    contacts = campaigns.ensure_contacts(details)
    lead_ids = campaigns.ensure_leads(
        {(campaign.id, contacts[(org, lead.email.strip().lower())]): org for lead in usable}
    )
    labels = _custom_labels(connection)
    statuses, interests, activity, raw = {}, {}, {}, []
    for lead in usable:
        lead_id = lead_ids[(campaign.id, contacts[(org, lead.email.strip().lower())])]
        at = lead.timestamp_updated or lead.timestamp_created or timezone.now()
        status = codes.lead_status(lead.status)
        if status:
            statuses[lead_id] = (status, at)
        interest = _interest(lead.raw.get("lt_interest_status"), labels)
        if interest is not None:
            interests[lead_id] = (*interest, at)
        last = _latest(
            lead.timestamp_last_contact, lead.timestamp_last_reply, lead.timestamp_last_open
        )
        if last:
            activity[lead_id] = last
        raw.append((lead_id, lead.id[:64], lead.raw))
    campaigns.advance_lead_status(statuses)
    campaigns.advance_lead_interest(interests)
    campaigns.touch_leads(activity)
    _keep_raw(raw)
    return list(lead_ids.values())


def _custom_labels(connection: ProviderConnection) -> dict[int, str]:
    """The workspace's custom labels by interest value (GET /lead-labels, synced before)."""
    rows = LeadLabel.objects.unscoped().filter(
        connection_id=connection.pk, interest_value__isnull=False
    )
    return dict(rows.values_list("interest_value", "label"))


def _interest(value: Any, labels: dict[int, str]) -> tuple[str, str] | None:
    """(interest status, label) of an `lt_interest_status`: a documented code is its status, a
    custom label's value is CUSTOM with that label's name (`codes.lead_interest`); a value
    neither knows (a label created since the last sync) stays CUSTOM with the raw value as its
    label, so it is never blanked."""
    if value is None or value == "":
        return None
    status, label = codes.lead_interest(value, labels)
    if status:
        return status, label
    return InterestStatus.CUSTOM, str(value)[:120]


def _variables(payload: Any) -> dict[str, Any]:
    """The lead's custom variables, flat values only (as Instantly stores them)."""
    if not isinstance(payload, dict):
        return {}
    return {str(k)[:100]: v for k, v in payload.items() if isinstance(v, str | int | float | bool)}


def _keep_raw(rows: list[tuple[int, str, dict]]) -> None:
    """Store Instantly's lead id and object on our lead (what a later sync compares)."""
    if not rows:
        return
    rows = sorted(rows)
    ids, instantly_ids, raws = columns([(i, iid, json.dumps(r)) for i, iid, r in rows], 3)
    execute(
        "UPDATE campaigns_lead l SET instantly_id = v.iid, raw = v.raw::jsonb, "
        "updated_at = now() FROM unnest(%b::bigint[], %b::text[], %b::text[]) "
        "AS v(id, iid, raw) WHERE l.id = v.id AND l.id = ANY(%b::bigint[]) "
        "AND (l.instantly_id <> v.iid OR l.raw <> v.raw::jsonb)",
        [ids, instantly_ids, raws, ids],
    )
