"""Notification emails: one notification, or a day's digest, with a signed unsubscribe link.

Links are absolute (`settings.PUBLIC_BASE_URL`): an email is read outside the site. The
unsubscribe link carries a signed token (`django.core.signing`, its own salt) naming the user
and the organization, so it works without logging in and a changed id breaks the signature.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from . import notifications

UNSUBSCRIBE_SALT = "messaging.notifications.unsubscribe"


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def unsubscribe_token(user_id: int, organization_id) -> str:
    return signing.dumps({"u": user_id, "o": str(organization_id)}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, organization id), or None for a forged or damaged token."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(data["u"]), str(data["o"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_url(user_id: int, organization_id) -> str:
    token = unsubscribe_token(user_id, organization_id)
    return absolute(reverse("notifications:unsubscribe", args=[token]))


def _lines(items) -> list[dict]:
    return [
        {"note": note, "url": absolute(notifications.link(note)), "kind": note.get_kind_display()}
        for note in items
    ]


def build(user, organization, items, *, digest: bool) -> EmailMultiAlternatives:
    """The email for `items` (notifications annotated by `notifications.with_read_state`)."""
    lines = _lines(items)
    if digest:
        subject = f"{len(lines)} notification{'s' if len(lines) != 1 else ''} for {organization}"
    else:
        subject = lines[0]["note"].title
    unsubscribe = unsubscribe_url(user.pk, organization.pk)
    context = {
        "user": user,
        "organization": organization,
        "lines": lines,
        "digest": digest,
        "unsubscribe_url": unsubscribe,
        "settings_url": absolute(reverse("notifications:settings")),
    }
    message = EmailMultiAlternatives(
        subject=f"[Salesbrain] {subject}"[:200],
        body=render_to_string("emails/notifications.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("emails/notifications.html", context), "text/html")
    return message
