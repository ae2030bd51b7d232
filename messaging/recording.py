"""Recording emails into threads, a batch at a time (called by the webhook processor).

Same rules as `campaigns.recording`: whole batches, statements that are safe to repeat, and a
way for the caller to learn which messages are new, because only new messages are counted.
A message is identified twice: by the event that reported it (one message per event) and by the
provider's email id within its campaign. A message a sync already stored (same email id, no
event yet) is adopted by the first event that reports it, and counted then. A reply written in
Salesbrain (see `replies`) is adopted the same way but never counted again: it was counted when
it was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from salesbrain.bulk import columns, ensure, execute, insert_rows, plain

from .models import Message, Thread

# Matches the partial unique index `uniq_message_email_id` (its predicate, as Django writes it).
_ADOPT_BY_EMAIL_ID = (
    "ON CONFLICT (campaign_id, instantly_email_id) WHERE NOT (instantly_email_id = '') "
    "DO UPDATE SET source_event_id = EXCLUDED.source_event_id "
    "WHERE messaging_message.source_event_id IS NULL"
)


@dataclass(frozen=True)
class ThreadSeed:
    """What a new thread starts with."""

    organization_id: Any
    lead_id: int | None
    subject: str = ""
    instantly_thread_id: str = ""


def ensure_threads(wanted: Mapping[tuple[Any, int], ThreadSeed]) -> dict[tuple[Any, int], int]:
    """(campaign id, contact id) -> thread id, creating missing threads."""
    return ensure(
        Thread,
        ("campaign_id", "contact_id"),
        {
            key: {
                "organization_id": seed.organization_id,
                "lead_id": seed.lead_id,
                "subject": seed.subject[:500],
                "instantly_thread_id": seed.instantly_thread_id[:64],
            }
            for key, seed in wanted.items()
        },
    )


def events_with_messages(event_ids: Iterable[int]) -> set[int]:
    """Events that already produced their message (a reprocessed event adds nothing)."""
    event_ids = sorted(set(event_ids))
    if not event_ids:
        return set()
    rows = execute(
        "SELECT source_event_id FROM messaging_message WHERE source_event_id = ANY(%b::bigint[])",
        [event_ids],
    )
    return {row[0] for row in rows}


def thread_history(thread_ids: Iterable[int], kinds: Iterable[str]) -> set[tuple[int, str]]:
    """(thread, kind) pairs already recorded: the first campaign email to a lead is the one
    that "contacts" it, the first reply is its unique reply."""
    thread_ids = sorted(set(thread_ids))
    if not thread_ids:
        return set()
    rows = execute(
        "SELECT DISTINCT thread_id, kind FROM messaging_message "
        "WHERE thread_id = ANY(%b::bigint[]) AND kind = ANY(%b::text[])",
        [thread_ids, [plain(kind) for kind in kinds]],
    )
    return set(rows)


def record_messages(messages: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Insert messages (dicts of `Message` fields, each with a `source_event_id`); answer the
    events whose message is new or was adopted, with that message's id. Of several messages
    with the same email id, only the first is offered."""
    seen: set[tuple[Any, str]] = set()
    offered = []
    for message in messages:
        key = (message["campaign_id"], message.get("instantly_email_id", ""))
        if key[1]:
            if key in seen:
                continue
            seen.add(key)
        offered.append(message)
    rows = insert_rows(
        Message,
        offered,
        on_conflict=_ADOPT_BY_EMAIL_ID,
        returning=("source_event_id", "status", "id"),
    )
    # A reply composed here has a delivery status; its copy from Instantly only links to it.
    return {event_id: pk for event_id, status, pk in rows if not status}


@dataclass
class ThreadChange:
    """What a batch's new messages do to one thread."""

    new_messages: int = 0
    last_message_at: dt.datetime | None = None
    last_inbound_at: dt.datetime | None = None
    has_reply: bool = False
    subject: str = ""
    lead_id: int | None = None
    instantly_thread_id: str = ""

    def add(self, at: dt.datetime, *, inbound: bool, reply: bool, subject: str) -> None:
        self.new_messages += 1
        self.last_message_at = max(filter(None, (self.last_message_at, at)))
        if inbound:
            self.last_inbound_at = max(filter(None, (self.last_inbound_at, at)))
        self.has_reply = self.has_reply or reply
        self.subject = self.subject or subject


def update_threads(changes: Mapping[int, ThreadChange]) -> None:
    """Apply the batch's new messages to their threads in one statement (a human reply marks
    the thread replied and unread, and reopens it when it was done; times only move
    forward)."""
    rows = [
        (
            thread_id,
            c.new_messages,
            c.last_message_at,
            c.last_inbound_at,
            c.has_reply,
            c.subject[:500],
            c.lead_id,
            c.instantly_thread_id[:64],
        )
        for thread_id, c in sorted(changes.items())
        if c.new_messages
    ]
    if not rows:
        return
    execute(
        "UPDATE messaging_thread t SET "
        "message_count = t.message_count + v.n, "
        "last_message_at = GREATEST(t.last_message_at, v.last_at), "
        "last_inbound_at = GREATEST(t.last_inbound_at, v.inbound_at), "
        "has_reply = t.has_reply OR v.reply, "
        "is_unread = t.is_unread OR v.reply, "
        "done_at = CASE WHEN v.reply THEN NULL ELSE t.done_at END, "
        "subject = CASE WHEN t.subject = '' THEN v.subject ELSE t.subject END, "
        "lead_id = COALESCE(t.lead_id, v.lead_id), "
        "instantly_thread_id = CASE WHEN t.instantly_thread_id = '' THEN v.tid "
        "ELSE t.instantly_thread_id END, "
        "updated_at = now() "
        "FROM unnest(%b::bigint[], %b::integer[], %b::timestamptz[], %b::timestamptz[], "
        "%b::boolean[], %b::text[], %b::bigint[], %b::text[]) "
        "AS v(id, n, last_at, inbound_at, reply, subject, lead_id, tid) "
        "WHERE t.id = v.id AND t.id = ANY(%b::bigint[])",
        [*columns(rows, 8), [row[0] for row in rows]],
    )
