"""Template context: the inbox's unread count and the notification bell's, each computed only
if a page shows it."""

from __future__ import annotations

from accounts.context_processors import Memo

from . import notifications
from .models import Thread


def _inbox_unread(request) -> int:
    organization = getattr(request, "organization", None)
    if organization is None:
        return 0
    return Thread.objects.filter(organization=organization, has_reply=True, is_unread=True).count()


def inbox(request):
    return {"inbox_unread": Memo(lambda: _inbox_unread(request))}


def _notifications_unread(request) -> int:
    organization = getattr(request, "organization", None)
    if organization is None or not request.user.is_authenticated:
        return 0
    return notifications.unread_count(organization, request.user)


def notification_bell(request):
    return {"notifications_unread": Memo(lambda: _notifications_unread(request))}
