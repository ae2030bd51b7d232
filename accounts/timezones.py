"""Dates in the reader's time zone: the browser tells its IANA zone in a `tz` cookie (set by a
line of script on the console's pages) and this middleware activates it for the request.

A cookie rather than a profile field because staff move between machines and the browser
already knows where it is; an unknown or malformed zone is ignored (UTC, the default, stays).
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

TZ_COOKIE = "tz"


def zone_from_cookie(value: str | None):
    """The zone a cookie names, or None (unknown names, paths and junk are refused)."""
    if not value or len(value) > 64 or ".." in value:
        return None
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class TimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_from_cookie(request.COOKIES.get(TZ_COOKIE))
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
