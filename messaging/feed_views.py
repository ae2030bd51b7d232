"""The live feed page and its stream (`messaging.feed_stream`).

The page is a plain list with a refresh link; `static/js/feed.js` (no inline script) opens the
stream and puts new lines on top. The stream answers to a session or an API token (the tenant
middleware resolved either) and carries only the organization the request acts for.
"""

from __future__ import annotations

import time

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns.views.access import portal_page

from . import feed
from . import feed_stream as streams

# Under a WSGI server (`runserver`, the test live server) a stream polls, then ends and the
# browser resumes: a WSGI worker thread cannot hold thousands of idle connections.
WSGI_STREAM_SECONDS = 25.0
WSGI_POLL_SECONDS = 0.5


@portal_page
@require_GET
def feed_page(request):
    lines = feed.latest(request.organization.pk)
    for line in lines:
        line.link = feed.link_for(line)
    return render(
        request,
        "feed/feed.html",
        {"lines": lines, "newest_id": lines[0].id if lines else 0},
    )


def _last_event_id(request) -> int | None:
    """The browser's `Last-Event-ID` on reconnection, else the page's `?after=`."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after")
    try:
        return max(int(raw), 0) if raw is not None else None
    except ValueError:
        return None


@require_GET
async def feed_stream(request):
    user = await request.auser()
    # An API token's user is resolved by the tenant middleware (`request.tenant` is set for
    # any authenticated caller), not by the session `auser()` knows.
    if not user.is_authenticated and getattr(request, "tenant", None) is None:
        return HttpResponse("Log in or send an API token.", status=401, content_type="text/plain")
    organization = getattr(request, "organization", None)
    if organization is None:
        return HttpResponse("No organization selected.", status=403, content_type="text/plain")
    last_id = _last_event_id(request)
    if isinstance(request, ASGIRequest):
        body = streams.stream(organization.pk, last_id)
    else:
        body = streams.polling_stream(
            organization.pk,
            last_id,
            seconds=WSGI_STREAM_SECONDS,
            interval=WSGI_POLL_SECONDS,
            sleep=time.sleep,
        )
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each line on at once
    return response
