"""The live feed: writing its lines, and reading them back for a page or a stream.

Lines are `FeedEvent` rows; their id is the cursor. Writers call `record_feed_events` inside
the transaction that records what happened; the table's trigger announces each line on commit
(`FEED_CHANNEL`), and `messaging.feed_stream` passes it on to the organization's open streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.urls import reverse

from salesbrain.bulk import insert_rows

from .models import FeedEvent

FEED_CHANNEL = "salesbrain_feed"
PAGE_SIZE = 50


def record_feed_events(rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert feed lines (dicts by column); lines already recorded for the same event, kind
    and organization are skipped. Answers how many were new."""
    return len(insert_rows(FeedEvent, rows)) if rows else 0


def link_for(event: FeedEvent) -> str:
    """Where a line leads: the conversation when there is one, else the leads page."""
    if event.thread_id:
        return reverse("inbox:thread", args=[event.thread_id])
    if event.kind == FeedEvent.Kind.MAILBOX:
        return reverse("portal:mailboxes")
    return reverse("portal:leads")


def as_dict(event: FeedEvent) -> dict[str, Any]:
    """A line as the stream and the API send it."""
    return {
        "id": event.id,
        "kind": event.kind,
        "kind_label": event.get_kind_display(),
        "title": event.title,
        "detail": event.detail,
        "occurred_at": event.occurred_at.isoformat(),
        "url": link_for(event),
    }


def sse_frame(event: FeedEvent) -> str:
    """One Server-Sent Events message: the id is the resume cursor (`Last-Event-ID`)."""
    return f"id: {event.id}\nevent: feed\ndata: {json.dumps(as_dict(event))}\n\n"


def latest(organization_id, limit: int = PAGE_SIZE) -> list[FeedEvent]:
    """The organization's newest lines, newest first (the page, the dashboard panel)."""
    return list(FeedEvent.objects.filter(organization_id=organization_id).order_by("-id")[:limit])


def after(organization_id, last_id: int, limit: int = 500) -> list[FeedEvent]:
    """The organization's lines after `last_id`, oldest first: what a resuming stream missed."""
    return list(
        FeedEvent.objects.filter(organization_id=organization_id, id__gt=last_id).order_by("id")[
            :limit
        ]
    )


def by_ids(ids: Iterable[int]) -> list[FeedEvent]:
    """Announced lines, read once for every stream of the process (caller opens the scope)."""
    return list(FeedEvent.objects.filter(id__in=list(ids)).order_by("id"))


def newest_id(organization_id) -> int:
    row = FeedEvent.objects.filter(organization_id=organization_id).order_by("-id").first()
    return row.id if row else 0
