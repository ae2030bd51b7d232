"""Answering a lead from Salesbrain: compose once, send once, record who sent it.

A compose carries an idempotency key. The message row is inserted first, under the unique
constraint `uniq_message_idempotency_key`: a double click, a retried request or a browser
resubmit with the same key finds that row instead of a new one, and only the request that
inserted it sends. Two concurrent requests with one key meet at the unique index: the second
waits for the first to commit, then gets the IntegrityError and answers the first one's message.

Sending itself belongs to the provider layer above (`instantly.replies`), which registers a
sender from its AppConfig.ready(); this module never imports it. The sender answers Instantly's
email id or raises `ReplyFailed` with a reason in plain words; the message then reads "failed"
with that reason and the caller keeps the draft.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .formatting import reply_html
from .models import Message, Thread

MAX_BODY_LENGTH = 20_000


class ReplyFailed(Exception):
    """Sending failed; `reason` says why in words a customer understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CannotReply(Exception):
    """The thread cannot be answered at all (nothing received to answer); nothing was stored."""


# (message, the inbound message it answers) -> Instantly's email id of the sent reply.
ReplySender = Callable[[Message, Message], str]
_sender: ReplySender | None = None


def register_sender(sender: ReplySender) -> None:
    """Called once by the provider layer's AppConfig.ready()."""
    global _sender
    _sender = sender


def reply_target(thread: Thread) -> Message | None:
    """The newest message the lead sent that Instantly can reply to (it has an email id)."""
    return (
        Message.objects.filter(thread=thread, direction=Message.Direction.INBOUND)
        .exclude(instantly_email_id="")
        .select_related("email_account")
        .order_by("-sent_at", "-pk")
        .first()
    )


def reply_subject(subject: str) -> str:
    """ "Re: …" once, as mail clients do."""
    subject = subject.strip()
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def sending_mailbox(target: Message) -> str:
    """The mailbox that received the lead's email answers it (Instantly's `eaccount`)."""
    if target.email_account_id and target.email_account.email:
        return target.email_account.email
    return target.to_email


def reply(thread: Thread, *, user, body: str, idempotency_key: str) -> tuple[Message, bool]:
    """The reply for this compose, sent when this call is the one that created it.

    Answers (message, created). Raises CannotReply when the thread has nothing to answer.
    """
    existing = _existing(thread, idempotency_key)
    if existing is not None:
        return existing, False
    target = reply_target(thread)
    if target is None:
        raise CannotReply("This conversation has no received email that Instantly can answer.")
    message, created = _compose(thread, target, user=user, body=body, key=idempotency_key)
    if created:
        _deliver(message, target)
    return message, created


def _existing(thread: Thread, key: str) -> Message | None:
    return Message.objects.filter(
        organization_id=thread.organization_id, idempotency_key=key
    ).first()


def _compose(thread: Thread, target: Message, *, user, body: str, key: str):
    now = timezone.now()
    message = Message(
        organization_id=thread.organization_id,
        thread=thread,
        campaign_id=thread.campaign_id,
        contact_id=thread.contact_id,
        email_account_id=target.email_account_id,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.MANUAL,
        subject=reply_subject(target.subject or thread.subject)[:500],
        body_text=body,
        body_html=reply_html(body),
        snippet=" ".join(body.split())[:500],
        from_email=sending_mailbox(target)[:254],
        to_email=target.from_email[:254],
        sent_at=now,
        status=Message.Status.SENDING,
        sent_by=user,
        idempotency_key=key,
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # Another request with the same key won the insert (it waited for that one's commit).
        return _existing(thread, key), False
    Thread.objects.filter(pk=thread.pk).update(
        message_count=F("message_count") + 1, last_message_at=now, is_unread=False
    )
    return message, True


def _deliver(message: Message, target: Message) -> None:
    if _sender is None:
        _mark_failed(message, "Sending is not set up on this server (no Instantly connection).")
        return
    try:
        email_id = _sender(message, target)
    except ReplyFailed as exc:
        _mark_failed(message, exc.reason)
        return
    _mark_sent(message, email_id)


def _mark_failed(message: Message, reason: str) -> None:
    message.status = Message.Status.FAILED
    message.failure_reason = reason[:500]
    message.save(update_fields=["status", "failure_reason"])


def _mark_sent(message: Message, email_id: str) -> None:
    """Sent; Instantly's email id lets its own copy (webhook or backfill) merge into this row.
    Should that copy already be stored, it is folded into this one."""
    message.status = Message.Status.SENT
    message.instantly_email_id = (email_id or "")[:64]
    fields = ["status", "instantly_email_id"]
    copy = None
    if message.instantly_email_id:
        copy = (
            Message.objects.filter(
                campaign_id=message.campaign_id, instantly_email_id=message.instantly_email_id
            )
            .exclude(pk=message.pk)
            .first()
        )
    if copy is not None:
        message.source_event_id = copy.source_event_id
        fields.append("source_event_id")
        copy.delete()
        Thread.objects.filter(pk=message.thread_id).update(message_count=F("message_count") - 1)
    message.save(update_fields=fields)
