"""Celery tasks delivering notifications by email and Slack (see `delivery`), and the hourly
lead-score decay pass (`scoring`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from accounts.tenancy import staff_scope

from . import delivery
from .scoring import store as scoring

logger = logging.getLogger("messaging.delivery")


@shared_task(
    name="messaging.tasks.deliver_notifications",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def deliver_notifications(organization_ids: list[str]) -> dict:
    """One task per processed batch: every organization that got notifications in it."""
    return delivery.dispatch(organization_ids)


@shared_task(name="messaging.tasks.send_digests", ignore_result=True)
def send_digests() -> dict:
    """Hourly (beat): daily digests whose hour it is, and notifications a lost publish left
    undelivered."""
    sent = delivery.send_digests()
    with staff_scope():
        stranded = delivery.pending_organizations()
    if stranded:
        deliver_notifications.delay([str(pk) for pk in stranded])
    return {"digests": sent, "stranded_organizations": len(stranded)}


def enqueue_delivery(organization_ids) -> None:
    """After commit, publish one delivery task for these organizations; never raises (the
    hourly sweep finds what a dead broker left behind)."""
    ids = sorted({str(pk) for pk in organization_ids if pk})
    if ids:
        try:
            deliver_notifications.delay(ids)
        except Exception as exc:  # noqa: BLE001 - a broker outage must not fail processing
            logger.warning("could not enqueue notification delivery (%r); the sweep will", exc)


@shared_task(name="messaging.tasks.decay_lead_scores", ignore_result=True)
def decay_lead_scores() -> int:
    """Re-read every lead's score as of now (scores only fall between events)."""
    with staff_scope():
        changed = scoring.decay_scores(timezone.now())
    logging.getLogger(__name__).info("lead scores decayed: %s changed", changed)
    return changed
