"""Triage of conversations, shared by the inbox pages and the API: read state, done, and the
inbox's narrowing filters. Read and done are Salesbrain's own state (for everyone in the
organization); nothing synced from Instantly changes them, except that a new message from the
lead reopens a done thread (`recording.update_threads`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from .models import Message, Thread


def set_read(thread: Thread, *, unread: bool) -> None:
    """Mark the thread read (and its messages) or unread."""
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(is_unread=unread)
        if not unread:
            Message.objects.filter(thread=thread, is_unread=True).update(is_unread=False)
    thread.is_unread = unread


def set_done(thread: Thread, *, done: bool) -> None:
    thread.done_at = timezone.now() if done else None
    Thread.objects.filter(pk=thread.pk).update(done_at=thread.done_at)


def awaiting_our_reply(threads: QuerySet) -> QuerySet:
    """Threads whose last message is the lead's."""
    return threads.filter(last_inbound_at__isnull=False, last_inbound_at__gte=F("last_message_at"))


def done(threads: QuerySet, value: bool) -> QuerySet:
    return threads.filter(done_at__isnull=not value)


def via_mailbox(threads: QuerySet, email_account_id) -> QuerySet:
    """Threads in which this sending mailbox wrote or received an email."""
    return threads.filter(
        Exists(Message.objects.filter(thread=OuterRef("pk"), email_account_id=email_account_id))
    )
