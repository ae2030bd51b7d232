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


class NewMessages(dict):
    """event id -> id of the message the event made new (inserted or adopted). `adopted` holds
    the events whose message was already stored by the history backfill: new to the counters,
    which never saw it, but already counted in its thread."""

    def __init__(self, *args: Any, adopted: set[int] | None = None) -> None:
        super().__init__(*args)
        self.adopted: set[int] = adopted or set()


def record_messages(messages: Sequence[Mapping[str, Any]]) -> NewMessages:
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
        returning=("source_event_id", "status", "id", "xmax"),
    )
    # A reply composed here has a delivery status; its copy from Instantly only links to it.
    # `xmax` is 0 for a row this statement inserted, set for one it updated (adopted).
    return NewMessages(
        {event_id: pk for event_id, status, pk, _ in rows if not status},
        adopted={event_id for event_id, status, _, xmax in rows if not status and str(xmax) != "0"},
    )


# Matches `uniq_message_email_id` too; a stored message is never touched by the backfill.
_KEEP_STORED = (
    "ON CONFLICT (campaign_id, instantly_email_id) WHERE NOT (instantly_email_id = '') DO NOTHING"
)


def record_history(messages: Sequence[Mapping[str, Any]]) -> list[tuple[int, str]]:
    """Insert emails read from the provider's history (no source event, each with its
    `instantly_email_id`); answer (message id, email id) of those not stored before. One
    already recorded from a webhook (same campaign and email id) is left as it is, and a
    webhook that reports a backfilled email later adopts it (`record_messages`)."""
    seen: set[tuple[Any, str]] = set()
    offered = []
    for message in messages:
        key = (message["campaign_id"], message["instantly_email_id"])
        if key[1] and key not in seen:
            seen.add(key)
            offered.append(message)
    rows = insert_rows(
        Message, offered, on_conflict=_KEEP_STORED, returning=("id", "instantly_email_id")
    )
    return [(pk, email_id) for pk, email_id in rows]


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

    def add(
        self, at: dt.datetime, *, inbound: bool, reply: bool, subject: str, counted: bool = True
    ) -> None:
        """One new message; `counted=False` for one the thread already counts (backfilled)."""
        self.new_messages += counted
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
        if c.last_message_at is not None
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
