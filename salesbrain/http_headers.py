"""Project-wide response headers that no view should have to remember."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and no-cache, private) on every answer that reaches Django.

    Pages, API answers and CSV exports carry one customer's data; no browser or proxy cache may
    keep them. Static files never get here: WhiteNoise answers them earlier, cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
