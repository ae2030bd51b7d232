"""Request budgets: per user, and separately per API token, so one runaway script spends its
token's budget without locking its owner out of the pages. Anonymous callers share per IP.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] and are read on every request (DRF's
own throttles freeze them at import), so tests and the benchmark can override them.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from accounts.api_tokens import ApiToken


class _LiveRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_LiveRateMixin, AnonRateThrottle):
    """Unauthenticated requests, per client IP."""

    scope = "anon"


class UserThrottle(_LiveRateMixin, UserRateThrottle):
    """Every authenticated request of one user, session or token alike."""

    scope = "user"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenThrottle(_LiveRateMixin, SimpleRateThrottle):
    """Requests made with one API token (sessions are not counted here)."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class SyncThrottle(_LiveRateMixin, SimpleRateThrottle):
    """Manual sync requests per user: each one costs Instantly API calls under its rate limit."""

    scope = "sync"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
