"""Telling staff about `Alert`s: an email to `STAFF_ALERT_EMAILS` and a post to
`STAFF_SLACK_WEBHOOK_URL`, once per subject until it is resolved.

A failing mailbox raises an alert per webhook delivery; staff need the first one, not fifty.
So an alert whose subject (`Alert.subject`: kind and mailbox or connection) already has an
open, notified alert is marked notified without being sent. Beat runs `tasks.deliver_alerts`
every minute (alerts come from syncs, subscriptions and processing); webhook processing also
enqueues it after a batch that raised one.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import staff_scope
from campaigns.mailbox_notes import register_mailbox_note
from instantly.models import Alert
from messaging import delivery, slack
from salesbrain import outbound

logger = logging.getLogger("instantly.alerts")

CLAIM_LIMIT = 200


def claim(now: dt.datetime) -> list[Alert]:
    """Open alerts nobody was told about, minus duplicates of a subject already told."""
    with staff_scope():
        fresh = list(
            Alert.objects.unscoped()
            .filter(notified_at__isnull=True, resolved_at__isnull=True)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("email_account", "connection")
            .order_by("created_at", "pk")[:CLAIM_LIMIT]
        )
        if not fresh:
            return []
        told = {
            alert.subject()
            for alert in Alert.objects.unscoped().filter(
                notified_at__isnull=False,
                resolved_at__isnull=True,
                kind__in={a.kind for a in fresh},
            )
        }
        Alert.objects.unscoped().filter(pk__in=[a.pk for a in fresh]).update(notified_at=now)
    send = []
    for alert in fresh:
        if alert.subject() not in told:
            told.add(alert.subject())
            send.append(alert)
    return send


def customers(alert: Alert) -> list[str]:
    """Names of the customers whose campaigns the alert's mailbox sends for."""
    rows = Organization.objects.filter(pk__in=alert.customer_ids).values_list("pk", "name")
    names = {str(pk): name for pk, name in rows}
    return [names.get(pk, pk) for pk in alert.customer_ids]


def describe(alert: Alert) -> str:
    lines = [f"[{alert.get_severity_display()}] {alert.title}", alert.message]
    with staff_scope():
        concerned = customers(alert)
    if concerned:
        lines.append("Sends for: " + ", ".join(concerned))
    url = settings.PUBLIC_BASE_URL + reverse("admin:instantly_alert_change", args=[alert.pk])
    lines.append(url)
    return "\n".join(line for line in lines if line)


def deliver(now: dt.datetime | None = None) -> int:
    """Send what is due; answers how many alerts went out."""
    alerts = claim(now or timezone.now())
    for alert in alerts:
        text = describe(alert)
        key = f"alert:{alert.pk}"
        if settings.STAFF_ALERT_EMAILS:
            subject = f"[Salesbrain alert] {alert.title}"[:200]
            for address in settings.STAFF_ALERT_EMAILS:
                message = EmailMultiAlternatives(subject, text, to=[address])
                with staff_scope():
                    delivery.send_email(message, organization_id=None, subject_key=key)
        if settings.STAFF_SLACK_WEBHOOK_URL:
            outcome = outbound.post_json(settings.STAFF_SLACK_WEBHOOK_URL, {"text": text})
            with staff_scope():
                slack.record_tries(
                    outcome, organization_id=None, subject_key=key, recipient="staff slack"
                )
    return len(alerts)


def enqueue_alert_delivery() -> None:
    """Publish `tasks.deliver_alerts` (after a batch's commit); never raises: beat runs it
    every minute anyway."""
    from instantly.tasks import deliver_alerts  # noqa: PLC0415 - tasks imports this module

    try:
        deliver_alerts.delay()
    except Exception as exc:  # noqa: BLE001 - a broker outage must not fail processing
        logger.warning("could not enqueue alert delivery (%r); beat will", exc)


def agency_notes(mailbox_ids) -> dict[int, str]:
    """For the customer's mailboxes page: is the agency on this mailbox's problem? One
    query in the customer's own scope: row-level security lets a customer read the alerts
    that name it in `customer_ids` (migration 0005), besides its own."""
    notes: dict[int, str] = {}
    open_alerts = (
        Alert.objects.unscoped()
        .filter(email_account_id__in=list(mailbox_ids), resolved_at__isnull=True)
        .order_by("created_at")
        .values_list("email_account_id", "notified_at", "created_at")
    )
    for mailbox_id, notified_at, created_at in open_alerts:
        if mailbox_id not in notes:
            when = timezone.localtime(notified_at or created_at).strftime("%b %-d, %H:%M")
            notes[mailbox_id] = f"The agency was alerted on {when} and is on it."
    return notes


def register() -> None:
    register_mailbox_note(agency_notes)
