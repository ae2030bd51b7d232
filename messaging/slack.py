"""An organization's Slack incoming webhook: saving it, posting to it, switching it off.

The URL is a secret (anyone holding it posts into the customer's channel): it is stored
encrypted (`SlackWebhook.url`), validated to be Slack's own host so the server never posts
to an arbitrary address, and a URL that keeps failing is disabled and the owners told, rather
than retried for ever.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import MemberRole
from salesbrain import outbound

from .models import DeliveryAttempt, Notification, SlackWebhook

SLACK_URL = re.compile(
    r"^https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9_/\-]+$"
)
# What goes to Slack: the positive news, not everything.
SLACK_KINDS = frozenset({Notification.Kind.LEAD_INTERESTED, Notification.Kind.MEETING_BOOKED})


def validate_url(url: str) -> str:
    url = url.strip()
    if len(url) > 500 or not SLACK_URL.match(url):
        raise ValidationError(
            "Paste a Slack incoming-webhook URL: https://hooks.slack.com/services/…"
        )
    return url


def save(organization, url: str) -> SlackWebhook:
    """Store (or replace) the organization's URL; a new URL starts with a clean record."""
    hook = SlackWebhook.objects.filter(organization=organization).first() or SlackWebhook(
        organization=organization
    )
    hook.url = validate_url(url)
    hook.is_active = True
    hook.consecutive_failures = 0
    hook.disabled_at = None
    hook.save()
    return hook


def record_tries(outcome: outbound.Outcome, *, organization_id, subject_key: str, recipient: str):
    """One `DeliveryAttempt` per HTTP request."""
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            organization_id=organization_id,
            channel=DeliveryAttempt.Channel.SLACK,
            status=DeliveryAttempt.Status.SENT if one.ok else DeliveryAttempt.Status.FAILED,
            subject_key=subject_key[:80],
            recipient=recipient[:254],
            attempt=number,
            error=one.error,
        )
        for number, one in enumerate(outcome.tries, start=1)
    )


def post(hook: SlackWebhook, text: str, *, subject_key: str, **options) -> bool:
    """Post `text`; count a failure against the URL and switch it off after too many."""
    outcome = outbound.post_json(hook.url, {"text": text}, **options)
    record_tries(
        outcome,
        organization_id=hook.organization_id,
        subject_key=subject_key,
        recipient=f"slack {hook.url_hint}…",
    )
    if outcome.ok:
        if hook.consecutive_failures:
            SlackWebhook.objects.filter(pk=hook.pk).update(consecutive_failures=0)
            hook.consecutive_failures = 0
        return True
    SlackWebhook.objects.filter(pk=hook.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    hook.refresh_from_db(fields=["consecutive_failures", "is_active"])
    if hook.is_active and hook.consecutive_failures >= settings.SLACK_MAX_CONSECUTIVE_FAILURES:
        disable(hook, outcome.error)
    return False


def disable(hook: SlackWebhook, reason: str) -> None:
    """Stop posting to a dead URL, and tell the organization (bell) and its owners (email)."""
    now = timezone.now()
    SlackWebhook.objects.filter(pk=hook.pk).update(is_active=False, disabled_at=now)
    hook.is_active, hook.disabled_at = False, now
    title = "Slack notifications were switched off"
    body = (
        f"Posting to the Slack webhook {hook.url_hint}… failed "
        f"{hook.consecutive_failures} times in a row (last error: {reason[:200]}). "
        "An owner or admin can paste a working URL in the notification settings."
    )
    # Already dispatched: this notice must not go back to the Slack URL that just failed.
    Notification.objects.create(
        organization_id=hook.organization_id,
        kind=Notification.Kind.OTHER,
        title=title,
        body=body,
        dispatched_at=now,
    )
    owners = (
        Membership.objects.filter(organization_id=hook.organization_id, role=MemberRole.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if owners:
        send_mail(f"[Salesbrain] {title}", body, None, list(owners), fail_silently=True)
