"""Template context: the inbox's unread count for the navigation, computed only if a page
shows it."""

from __future__ import annotations

from accounts.context_processors import Memo

from .models import Thread


def _inbox_unread(request) -> int:
    organization = getattr(request, "organization", None)
    if organization is None:
        return 0
    return Thread.objects.filter(organization=organization, has_reply=True, is_unread=True).count()


def inbox(request):
    return {"inbox_unread": Memo(lambda: _inbox_unread(request))}
