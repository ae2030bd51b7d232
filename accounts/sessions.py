"""Sliding sessions: a login lasts SESSION_COOKIE_AGE (12 hours) from the last request.

Django's SESSION_SAVE_EVERY_REQUEST would write the session row on every request. Here the
session is renewed at most once per REFRESH_EVERY: the expiry then trails the last request by
11 to 12 hours, for one write an hour instead of one per page.
"""

from __future__ import annotations

import time

REFRESHED_AT = "_sb_refreshed_at"
REFRESH_EVERY = 3600  # seconds


def mark_fresh(sender, request, user, **kwargs) -> None:
    """user_logged_in: a new session starts fresh (no write on the next request)."""
    if request is not None and hasattr(request, "session"):
        request.session[REFRESHED_AT] = int(time.time())


class SlidingSessionMiddleware:
    """After AuthenticationMiddleware: renews a logged-in session once it is an hour old."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(REFRESHED_AT, 0) >= REFRESH_EVERY:
                request.session[REFRESHED_AT] = now  # saved, with a new expiry, on the way out
        return self.get_response(request)
