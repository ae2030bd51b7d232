"""Categorising inbound replies as they are recorded, and what a category sets in motion.

Webhook processing (`instantly`) puts `category_fields(...)` into each inbound message row it
inserts, so a reply is stored with its category in the same transaction. For the new ones,
`after_recording` then moves the thread's category, flags do-not-contact leads, proposes an
interest status where Instantly's is blank (a person's or Instantly's choice always wins),
raises notifications and sends `reply_categorised`, which higher layers listen to (the
Instantly block list). A person's correction (`correct_category`) and the backfill of older
messages (`categorise_backlog`) end the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from campaigns.models import InterestStatus
from salesbrain.bulk import columns, execute, insert_rows

from .categorise.categories import ReplyCategory
from .categorise.categoriser import default_categoriser
from .models import CategoryLabel, CategorySource, Message, Notification, ReplySettings, Thread
from .scoring import store as scoring

# Sent inside the transaction that stored the categories, with `replies`, a list of
# `CategorisedReply`. A receiver that calls out (the block list) must do so on commit.
reply_categorised = Signal()

# What a category proposes for the lead's interest status when that is blank.
PROPOSED_INTEREST = {
    ReplyCategory.INTERESTED: InterestStatus.INTERESTED,
    ReplyCategory.MEETING_REQUEST: InterestStatus.INTERESTED,
    ReplyCategory.INFORMATION_REQUEST: InterestStatus.INTERESTED,
    ReplyCategory.NOT_INTERESTED: InterestStatus.NOT_INTERESTED,
    ReplyCategory.DO_NOT_CONTACT: InterestStatus.NOT_INTERESTED,
    ReplyCategory.OUT_OF_OFFICE: InterestStatus.OUT_OF_OFFICE,
    ReplyCategory.WRONG_PERSON: InterestStatus.WRONG_PERSON,
}
NOTIFIED = {
    ReplyCategory.INTERESTED: (Notification.Kind.REPLY_INTERESTED, "{lead} replied: interested"),
    ReplyCategory.MEETING_REQUEST: (Notification.Kind.REPLY_MEETING, "{lead} asked for a meeting"),
}
BACKLOG_BATCH = 500


@dataclass(frozen=True)
class CategorisedReply:
    """One inbound message and its category, as the follow-ups need it."""

    message_id: int
    organization_id: Any
    thread_id: int
    lead_id: int | None
    campaign_id: Any
    email: str
    category: str
    confidence: float
    returns_on: dt.date | None
    at: dt.datetime
    source_event_id: int | None = None
    lead_name: str = ""
    by_person: bool = False


def category_fields(
    *, subject: str, text: str, html: str, sent_at: dt.datetime, from_email: str,
    now: dt.datetime,
) -> dict[str, Any]:  # fmt: skip
    """The category columns of one inbound message row."""
    result = default_categoriser().categorise(
        subject, text, html=html, reference_date=sent_at.date(), exclude_emails=(from_email,)
    )
    return {
        "category": result.category,
        "category_confidence": round(result.confidence, 4),
        "category_source": result.source,
        "returns_on": result.returns_on,
        "referral": result.referral.as_dict() if result.referral else None,
        "categorised_at": now,
    }


def after_recording(
    replies: Sequence[CategorisedReply], now: dt.datetime, *, notify: bool = True
) -> set:
    """Follow-ups of newly categorised replies, in the caller's transaction; answers the
    organizations that got a notification (their delivery is the caller's to announce)."""
    replies = [r for r in replies if r.category]
    if not replies:
        return set()
    settings = settings_for({r.organization_id for r in replies})
    _move_threads(replies)
    _flag_leads(replies, settings)
    notified: set = set()
    if notify:
        notified = _notify(
            [r for r in replies if settings[r.organization_id].notify_positive_replies], now
        )
    reply_categorised.send(sender=CategorisedReply, replies=list(replies))
    return notified


def show_history(replies: Sequence[CategorisedReply]) -> None:
    """Replies read from the provider's history (the backfill): their threads show their
    category like any other, with none of `after_recording`'s follow-ups (no notification, no
    lead flag, no do-not-contact action): the past is not news."""
    replies = [r for r in replies if r.category]
    if replies:
        _move_threads(replies)


def describe(reply: CategorisedReply) -> str:
    """A category in a few words: "Interested 93%", "Out of office · back on 2 Dec"."""
    if not reply.category:
        return ""
    text = ReplyCategory(reply.category).label
    if reply.category == ReplyCategory.OUT_OF_OFFICE and reply.returns_on:
        return f"{text} · back on {reply.returns_on.day} {reply.returns_on:%b}"
    return f"{text} {reply.confidence:.0%}"


def settings_for(organization_ids: Iterable[Any]) -> dict[Any, ReplySettings]:
    """Each organization's reply settings (unsaved defaults where it has none)."""
    wanted = {org for org in organization_ids}
    found = {
        s.organization_id: s
        for s in ReplySettings.objects.unscoped().filter(organization_id__in=wanted - {None})
    }
    return {org: found.get(org) or ReplySettings(organization_id=org) for org in wanted}


def _latest(replies: Iterable[CategorisedReply], key) -> dict[Any, CategorisedReply]:
    latest: dict[Any, CategorisedReply] = {}
    for reply in replies:
        k = key(reply)
        if k is not None and (k not in latest or reply.at >= latest[k].at):
            latest[k] = reply
    return latest


def _move_threads(replies: Sequence[CategorisedReply]) -> None:
    """A thread shows its latest categorised reply's category; an older one never wins."""
    rows = [
        (r.thread_id, r.category, r.confidence, r.returns_on, r.at)
        for r in sorted(_latest(replies, lambda r: r.thread_id).values(), key=lambda r: r.thread_id)
    ]
    execute(
        "UPDATE messaging_thread t SET category = v.category, category_confidence = v.confidence, "
        "returns_on = v.returns_on, category_at = v.at "
        "FROM unnest(%b::bigint[], %b::text[], %b::float8[], %b::date[], %b::timestamptz[]) "
        "AS v(id, category, confidence, returns_on, at) "
        "WHERE t.id = v.id AND (t.category_at IS NULL OR v.at >= t.category_at)",
        columns(rows, 5),
    )


def _flag_leads(replies: Sequence[CategorisedReply], settings: dict[Any, ReplySettings]) -> None:
    dnc = sorted(
        {r.lead_id for r in replies if r.lead_id and r.category == ReplyCategory.DO_NOT_CONTACT}
    )
    if dnc:
        execute(
            "UPDATE campaigns_lead SET do_not_contact = true "
            "WHERE id = ANY(%b::bigint[]) AND NOT do_not_contact",
            [dnc],
        )
    proposals = [
        (r.lead_id, PROPOSED_INTEREST[r.category].value)
        for r in sorted(_latest(replies, lambda r: r.lead_id).values(), key=lambda r: r.lead_id)
        if r.category in PROPOSED_INTEREST and settings[r.organization_id].propose_interest_status
    ]
    if proposals:
        execute(
            "UPDATE campaigns_lead l SET proposed_interest_status = v.status "
            "FROM unnest(%b::bigint[], %b::text[]) AS v(id, status) "
            "WHERE l.id = v.id AND l.interest_status = ''",
            columns(proposals, 2),
        )


def _notify(replies: Sequence[CategorisedReply], now: dt.datetime) -> set:
    notes = []
    for r in replies:
        if r.organization_id is None or r.by_person or r.category not in NOTIFIED:
            continue
        kind, title = NOTIFIED[r.category]
        notes.append({
            "organization_id": r.organization_id, "kind": kind,
            "title": title.format(lead=r.lead_name or r.email)[:300],
            "body": f"{r.email}: categorised {r.category.replace('_', ' ')} "
                    f"({r.confidence:.0%} sure)",
            "campaign_id": r.campaign_id, "lead_id": r.lead_id,
            "source_event_id": r.source_event_id, "created_at": now,
        })  # fmt: skip
    written = insert_rows(Notification, notes, returning=("organization_id",))
    return {row[0] for row in written}


# --- a person's correction --------------------------------------------------------------------


def correct_category(message: Message, category: str, user, now: dt.datetime | None = None):
    """Store a person's category for an inbound message (a label), and redo what follows
    from it: the thread, the lead's flags and proposal, its score, the listeners."""
    if category not in ReplyCategory.values:
        raise ValueError(f"unknown category {category!r}")
    now = now or timezone.now()
    with transaction.atomic():
        CategoryLabel.objects.create(
            organization_id=message.organization_id, message=message, category=category,
            previous_category=message.category, previous_confidence=message.category_confidence,
            created_by=user if user and user.is_authenticated else None, created_at=now,
        )  # fmt: skip
        returns_on = message.returns_on if category == ReplyCategory.OUT_OF_OFFICE else None
        Message.objects.unscoped().filter(pk=message.pk).update(
            category=category, category_confidence=1.0, category_source=CategorySource.PERSON,
            returns_on=returns_on, categorised_at=now,
        )  # fmt: skip
        message.category, message.category_confidence = category, 1.0
        message.category_source, message.returns_on = CategorySource.PERSON, returns_on
        thread = Thread.objects.unscoped().select_related("lead").get(pk=message.thread_id)
        reply = CategorisedReply(
            message_id=message.pk, organization_id=message.organization_id,
            thread_id=thread.pk, lead_id=thread.lead_id, campaign_id=message.campaign_id,
            email=message.from_email, category=category, confidence=1.0,
            returns_on=returns_on, at=message.sent_at, by_person=True,
        )  # fmt: skip
        _move_threads([reply])
        if thread.lead_id:
            _reflag_lead(thread.lead_id, settings_for([message.organization_id]))
            scoring.recompute_scores(now, lead_ids=[thread.lead_id])
        reply_categorised.send(sender=CategorisedReply, replies=[reply])
    return message


def _reflag_lead(lead_id: int, settings: dict[Any, ReplySettings]) -> None:
    """The do-not-contact flag and the proposal from all of the lead's categorised replies."""
    rows = execute(
        "SELECT m.category, m.organization_id FROM messaging_message m "
        "JOIN messaging_thread t ON t.id = m.thread_id WHERE t.lead_id = %b "
        "AND m.direction = 'inbound' AND m.category <> '' ORDER BY m.sent_at, m.id",
        [lead_id],
    )
    categories = [row[0] for row in rows]
    proposal = ""
    if categories and categories[-1] in PROPOSED_INTEREST:
        org = rows[-1][1]
        if settings.get(org, ReplySettings()).propose_interest_status:
            proposal = PROPOSED_INTEREST[categories[-1]].value
    execute(
        "UPDATE campaigns_lead SET do_not_contact = %b, proposed_interest_status = %b "
        "WHERE id = %b",
        [ReplyCategory.DO_NOT_CONTACT.value in categories, proposal, lead_id],
    )


# --- the backlog ------------------------------------------------------------------------------


def categorise_backlog(*, limit: int | None = None, now: dt.datetime | None = None) -> int:
    """Categorise inbound messages recorded before there was a categoriser (or whose category
    was cleared), a batch at a time; no notifications for them (they are old news). Run in a
    staff scope. Answers how many messages were categorised."""
    now = now or timezone.now()
    done = 0
    while limit is None or done < limit:
        size = BACKLOG_BATCH if limit is None else min(BACKLOG_BATCH, limit - done)
        with transaction.atomic():
            batch = list(
                Message.objects.unscoped()
                .filter(direction=Message.Direction.INBOUND, category="")
                .select_related("thread")
                .order_by("id")[:size]
            )
            if not batch:
                break
            rows, replies = [], []
            for m in batch:
                fields = category_fields(
                    subject=m.subject, text=m.body_text, html=m.body_html, sent_at=m.sent_at,
                    from_email=m.from_email, now=now,
                )  # fmt: skip
                rows.append((
                    m.pk, fields["category"], fields["category_confidence"],
                    fields["category_source"], fields["returns_on"],
                ))  # fmt: skip
                replies.append(CategorisedReply(
                    message_id=m.pk, organization_id=m.organization_id, thread_id=m.thread_id,
                    lead_id=m.thread.lead_id, campaign_id=m.campaign_id, email=m.from_email,
                    category=fields["category"], confidence=fields["category_confidence"],
                    returns_on=fields["returns_on"], at=m.sent_at,
                    source_event_id=m.source_event_id,
                ))  # fmt: skip
            execute(
                "UPDATE messaging_message m SET category = v.category, "
                "category_confidence = v.confidence, category_source = v.source, "
                "returns_on = v.returns_on, categorised_at = %b "
                "FROM unnest(%b::bigint[], %b::text[], %b::float8[], %b::text[], %b::date[]) "
                "AS v(id, category, confidence, source, returns_on) WHERE m.id = v.id",
                [now, *columns(rows, 5)],
            )
            after_recording(replies, now, notify=False)
            leads = sorted({r.lead_id for r in replies if r.lead_id})
            if leads:
                scoring.recompute_scores(now, lead_ids=leads)
        done += len(batch)
    return done
