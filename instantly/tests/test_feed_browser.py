"""The live feed in a real browser: alice has /feed/ open, a webhook delivery for her campaign
is posted to the receiver and processed, and the reply appears on the page without a reload.

The live server is WSGI, so the stream is the polling fallback; it is cut short here so the
browser's EventSource reconnects (with Last-Event-ID) as it would after a proxy timeout.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.db import connections

from instantly.webhooks import queue
from instantly.webhooks import views as webhook_views
from messaging import feed_views
from testkit import PASSWORD, make_campaign, make_connection
from testkit.browser import chromium_path, open_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLY = {
    "timestamp": "2026-03-02T11:20:05.000Z",
    "event_type": "reply_received",
    "campaign_id": "camp-live",
    "campaign_name": "Live campaign",
    "lead_email": "maya.patel@bluepeak.example",
    "email": "maya.patel@bluepeak.example",
    "email_account": "sam@salesbrain-mail.example",
    "email_id": "live-reply-1",
    "email_subject": "Re: quick question",
    "reply_text": "Sounds interesting, let's talk.",
    "firstName": "Maya",
    "lastName": "Patel",
}


@pytest.fixture
def base_url(transactional_db, live_server) -> str:
    return live_server.url


@pytest.fixture
def alices_campaign(alice, org_a):
    connection, secret = make_connection(
        "Agency workspace", is_shared=True, workspace_id="ws-live", with_secret=True
    )
    make_campaign(connection, "camp-live", organization=org_a, name="Live campaign")
    return secret


@pytest.fixture
def browser_page(monkeypatch):
    chromium = chromium_path()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr(feed_views, "WSGI_STREAM_SECONDS", 3.0)
    # The test plays the worker (`queue.drain`): an eager task run on the receiver's
    # publisher thread would keep a database session open past the test.
    monkeypatch.setattr(webhook_views, "enqueue_event", lambda *args, **kwargs: None)
    with open_page(chromium) as page:
        yield page


def play_the_worker() -> None:
    """Process what the receiver stored, as the Celery worker would. On a thread of its own:
    ORM calls made while Playwright's event loop runs would open a session that outlives the
    test (see campaigns' browser test)."""
    try:
        queue.drain()
    finally:
        connections.close_all()


def test_a_reply_appears_on_the_open_feed_without_a_reload(base_url, alices_campaign, browser_page):
    page = browser_page
    page.goto(base_url + "/accounts/login/?next=/feed/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/feed/")
    page.evaluate("window.__sameDocument = true")
    assert page.locator("text=Reply from Maya Patel").count() == 0

    response = requests.post(
        base_url + "/webhooks/instantly/webhook",
        json=REPLY,
        headers={"X-Salesbrain-Webhook-Secret": alices_campaign},
        timeout=10,
    )
    assert response.status_code in (200, 202), response.text
    worker = threading.Thread(target=play_the_worker)
    worker.start()
    worker.join(30)

    page.wait_for_selector(".feed-line >> text=Reply from Maya Patel", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    shot(page, "feed-live-reply")
    # Leave, and let the server's (shortened) stream end, so its session is gone before the
    # test database is dropped.
    page.goto("about:blank")
    time.sleep(feed_views.WSGI_STREAM_SECONDS + 0.5)
