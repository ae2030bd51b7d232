"""Delivering notifications beyond the portal: email to members who opted in (at once or in a
daily digest) and the organization's Slack channel.

Webhook processing enqueues one `tasks.deliver_notifications` per batch after commit; the task
claims the organization's undelivered notifications (`dispatched_at`, under `SKIP LOCKED`, so
two workers never send the same one) and sends them. Every try leaves a `DeliveryAttempt`.

Each step opens its own short staff scope (a transaction): the claim commits before anything
is sent, and no transaction stays open across an SMTP or HTTP exchange.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import F
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import staff_scope

from . import emails, notifications, slack
from .models import DeliveryAttempt, Notification, NotificationPreference, SlackWebhook

logger = logging.getLogger("messaging.delivery")

EMAIL_TRIES = 3
CLAIM_LIMIT = 500
SWEEP_AGE = dt.timedelta(minutes=2)  # undelivered this long after creation: enqueue again
SWEEP_HORIZON = dt.timedelta(days=1)  # older news is not worth an email any more


def send_email(message, *, organization_id, subject_key: str) -> bool:
    """Send with a few tries; one `DeliveryAttempt` each."""
    for attempt in range(1, EMAIL_TRIES + 1):
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 - SMTP, network or provider (anymail) errors
            error = f"{type(exc).__name__}: {exc}"[:500]
            _attempt(organization_id, subject_key, message.to[0], attempt, error)
            if attempt < EMAIL_TRIES:
                time.sleep(2 ** (attempt - 1))
            continue
        _attempt(organization_id, subject_key, message.to[0], attempt, "")
        return True
    logger.warning("email %s to %s failed %s times", subject_key, message.to[0], EMAIL_TRIES)
    return False


def _attempt(organization_id, subject_key, recipient, attempt, error) -> None:
    DeliveryAttempt.objects.create(
        organization_id=organization_id,
        channel=DeliveryAttempt.Channel.EMAIL,
        status=DeliveryAttempt.Status.FAILED if error else DeliveryAttempt.Status.SENT,
        subject_key=subject_key[:80],
        recipient=recipient[:254],
        attempt=attempt,
        error=error,
    )


def _preferences(organization_id, mode: str):
    """Opted-in members (still members, active, with an address)."""
    return (
        NotificationPreference.objects.filter(organization_id=organization_id, email=mode)
        .filter(user__memberships__organization_id=F("organization_id"), user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "organization")
    )


def claim(organization_id, *, now: dt.datetime) -> list[int]:
    with staff_scope():
        ids = list(
            Notification.objects.filter(organization_id=organization_id, dispatched_at__isnull=True)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:CLAIM_LIMIT]
        )
        Notification.objects.filter(pk__in=ids).update(dispatched_at=now)
    return ids


def dispatch(organization_ids: Iterable, *, now: dt.datetime | None = None) -> dict:
    """Send what each organization has not sent yet. Answers counts, for the task's log."""
    now = now or timezone.now()
    sent = {"notifications": 0, "emails": 0, "slack": 0}
    for organization_id in dict.fromkeys(organization_ids):
        ids = claim(organization_id, now=now)
        if not ids:
            continue
        with staff_scope():
            notes = list(notifications.with_thread(Notification.objects.filter(pk__in=ids)))
            prefs = list(_preferences(organization_id, NotificationPreference.Email.IMMEDIATE))
            hook = SlackWebhook.objects.filter(
                organization_id=organization_id, is_active=True
            ).first()
        notes.reverse()  # oldest first: the order things happened
        sent["notifications"] += len(notes)
        for pref in prefs:
            for note in notes:
                if pref.wants(note.kind):
                    sent["emails"] += _email(pref, [note], f"notification:{note.pk}")
        for note in notes:
            if hook and hook.is_active and note.kind in slack.SLACK_KINDS:
                text = f"<{emails.absolute(notifications.link(note))}|{note.title}> · {note.body}"
                with staff_scope():
                    sent["slack"] += slack.post(hook, text, subject_key=f"notification:{note.pk}")
    return sent


def _email(pref: NotificationPreference, notes: list, subject_key: str, *, digest=False) -> bool:
    message = emails.build(pref.user, pref.organization, notes, digest=digest)
    with staff_scope():
        return send_email(message, organization_id=pref.organization_id, subject_key=subject_key)


def pending_organizations(now: dt.datetime | None = None) -> list:
    """Organizations with recent notifications no task has delivered (a lost publish)."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            dispatched_at__isnull=True,
            organization_id__isnull=False,
            created_at__lt=now - SWEEP_AGE,
            created_at__gte=now - SWEEP_HORIZON,
        )
        .values_list("organization_id", flat=True)
        .distinct()
    )


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def digest_due(pref: NotificationPreference, now: dt.datetime) -> bool:
    """At the chosen hour of the member's own day, once a day."""
    if now.astimezone(_zone(pref.time_zone)).hour != pref.digest_hour:
        return False
    return pref.last_digest_at is None or now - pref.last_digest_at > dt.timedelta(hours=23)


def send_digests(now: dt.datetime | None = None, *, due: Callable = digest_due) -> int:
    """One email per member whose digest hour it is: what happened since the last one."""
    now = now or timezone.now()
    sent = 0
    with staff_scope():
        organization_ids = list(Organization.objects.values_list("pk", flat=True))
    for organization_id in organization_ids:
        with staff_scope():
            prefs = list(_preferences(organization_id, NotificationPreference.Email.DAILY))
        for pref in prefs:
            if not due(pref, now):
                continue
            since = pref.last_digest_at or now - dt.timedelta(days=1)
            with staff_scope():
                rows = Notification.objects.filter(
                    organization_id=organization_id, created_at__gt=since, created_at__lte=now
                )
                notes = [n for n in notifications.with_thread(rows) if pref.wants(n.kind)]
                NotificationPreference.objects.filter(pk=pref.pk).update(last_digest_at=now)
            if notes:
                day = now.astimezone(_zone(pref.time_zone)).date()
                sent += _email(pref, notes, f"digest:{pref.user_id}:{day}", digest=True)
    return sent
