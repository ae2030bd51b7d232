"""The portal in a real browser: Playwright drives Debian's headless Chromium against the live
server, walks a customer's day (log in, dashboard, a campaign, the inbox, a thread, mark it
read, export leads, log out) and saves a screenshot of every page under
`artifacts/screenshots/` (git-ignored) for a person to look at (see `testkit.browser`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlparse

import pytest
import responses
from django.conf import settings

from accounts.tenancy import staff_scope
from campaigns.models import Campaign, NotSendingStatus
from testkit import PASSWORD, build_org_dataset, make_feed_event
from testkit.browser import chromium_path, open_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium() -> str:
    return chromium_path()


@pytest.fixture
def browser_page(chromium, monkeypatch):
    """A fresh page in headless Chromium (see `testkit.browser`).

    Ask for it after every database fixture: ORM work done while Playwright's loop runs opens
    a connection of its own that outlives the test (and blocks dropping the test database).
    """
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # (assertions) are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with open_page(chromium) as page:
        yield page


@pytest.fixture
def base_url(transactional_db, live_server) -> str:
    """The live server's URL. Asking for the database first makes the (session-wide) live
    server stop before the test database is dropped, whatever else runs in the session."""
    return live_server.url


@pytest.fixture
def portal_data(alice, org_a, org_b):
    data_a = build_org_dataset(org_a, campaigns=5, leads_per_campaign=40, replies_per_campaign=8)
    build_org_dataset(org_b, campaigns=2, leads_per_campaign=10, replies_per_campaign=3)
    # A live-feed line as long as real ones get: the dashboard's live panel shows it on a phone.
    make_feed_event(
        org_a,
        title="Reply from Maximiliane Oberholzer-Schwarzenberg",
        detail="maximiliane.oberholzer-schwarzenberg+r1@orchard-foods.example · Meeting request",
    )
    # One campaign Instantly says is not sending, with its interest totals synced: the page
    # shows both, on a phone too.
    with staff_scope():
        Campaign.objects.unscoped().filter(pk=data_a.campaigns[0].pk).update(
            not_sending_status=NotSendingStatus.ACCOUNTS_AT_LIMIT,
            analytics_overview={
                "total_interested": 1234567,
                "total_meeting_booked": 89012,
                "total_closed": 3456,
            },
        )
    return data_a


def test_customer_walks_through_the_portal(base_url, portal_data, browser_page):
    page = browser_page
    base = base_url

    # Anonymous: sent to the login page.
    page.goto(base + "/")
    assert "/accounts/login/" in page.url
    shot(page, "01-login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # Dashboard: figures, a server-drawn chart, the latest replies.
    page.wait_for_url(base + "/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".figure").count() == 7
    assert page.locator("svg.chart-svg[role=img] title").count() >= 1
    shot(page, "02-dashboard")
    page.click(".segmented >> text=90 days")
    page.wait_for_url("**/?days=90")
    shot(page, "02b-dashboard-90-days")

    # Campaigns, then one campaign: the chosen period goes along.
    page.click("nav.mainnav >> text=Campaigns")
    page.wait_for_url("**/campaigns/?days=90")
    assert "figures for last 90 days" in page.content()
    assert page.locator("table.campaigns tbody tr").count() == 5
    shot(page, "03-campaigns")
    page.click("table.campaigns tbody tr:first-child td.name a")
    page.wait_for_selector("svg.chart-svg")
    assert "Steps and variants" in page.content()
    shot(page, "04-campaign")

    # Inbox, an unread thread: opening it reads it.
    page.click("nav.mainnav >> text=Inbox")
    page.wait_for_url("**/inbox/?days=90")
    assert page.locator(".thread-row").count() > 0
    shot(page, "05-inbox")
    page.click(".thread-row.unread a >> nth=0")
    page.wait_for_selector("ol.conversation")
    assert page.locator(".message.inbound").count() >= 1
    assert page.locator(".message.outbound").count() >= 1
    thread_pk = int(urlparse(page.url).path.rstrip("/").split("/")[-1])
    shot(page, "06-thread")
    assert page.locator("button:has-text('Mark as unread')").count() == 1
    # The inbox no longer marks it (checked in the page: no ORM while Playwright runs).
    page.click("text=← Inbox")
    page.wait_for_url("**/inbox/?days=90")
    row = page.locator(f".thread-row:has(a[href^='/inbox/{thread_pk}/'])")
    assert "unread" not in (row.get_attribute("class") or "")

    # Leads, a search, and the CSV export of that search.
    page.click("nav.mainnav >> text=Leads")
    page.wait_for_url("**/leads/?days=90")
    shot(page, "08-leads")
    with page.expect_download() as download_info:
        page.click("text=Export CSV")
    download = download_info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["email", "first_name"]
    assert len(rows) - 1 == len(portal_data.leads)
    exported = {row[0] for row in rows[1:]}
    assert exported == {lead.contact.email for lead in portal_data.leads}

    page.click("nav.mainnav >> text=Mailboxes")
    page.wait_for_url("**/mailboxes/?days=90")
    shot(page, "09-mailboxes")

    # A campaign Instantly says is not sending: the reason and Instantly's totals, on a desktop.
    page.goto(f"{base}/campaigns/{portal_data.campaigns[0].pk}/")
    assert page.locator(".not-sending .badge.warn").inner_text() == "Not sending"
    totals = page.locator("section[aria-labelledby=interest-totals-h] tbody tr")
    assert totals.count() == 3 and "89,012" in totals.nth(1).inner_text()
    shot(page, "04b-campaign-not-sending", full_page=True)

    # The same pages on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    phone_pages = (
        ("dashboard", "/"),
        ("campaigns", "/campaigns/"),
        ("inbox", "/inbox/"),
        ("leads", "/leads/"),
        ("mailboxes", "/mailboxes/"),
        ("notifications", "/notifications/"),
        ("feed", "/feed/"),
        ("campaign", f"/campaigns/{portal_data.campaigns[0].pk}/"),
    )
    for name, path in phone_pages:
        page.goto(base + path)
        # Nothing sticks out sideways: a phone never scrolls the whole page horizontally.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        if name == "campaign":
            assert "Every sending mailbox reached its daily limit" in page.content()
            assert page.locator("#interest-totals-h").is_visible()
            assert (
                "1,234,567"
                in page.locator("section[aria-labelledby=interest-totals-h]").inner_text()
            )
        shot(page, f"10-phone-{name}", full_page=name in ("dashboard", "campaign"))
    page.goto(f"{base}/inbox/{thread_pk}/")
    shot(page, "10-phone-thread")
    page.set_viewport_size({"width": 1360, "height": 900})

    # Log out: back to the login page, and the portal is closed again.
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")
    page.goto(base + "/campaigns/")
    assert "/accounts/login/" in page.url


@pytest.fixture
def staff_data(olga, org_a, org_b):
    build_org_dataset(org_a, campaigns=3, leads_per_campaign=10, replies_per_campaign=4)
    build_org_dataset(org_b, campaigns=2, leads_per_campaign=10, replies_per_campaign=3)


def test_staff_pick_an_organization_and_see_its_portal(base_url, staff_data, browser_page):
    page = browser_page
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
    assert page.locator("h1").inner_text() == "Choose an organization"
    shot(page, "11-staff-choose-organization")
    page.click("button.org-choice:has-text('Bluebird Growth')")
    page.wait_for_selector("h1:text('Dashboard')")
    assert "You are viewing Bluebird Growth" in page.locator(".staffbar").inner_text()
    shot(page, "12-staff-viewing-organization")


def test_alice_works_the_inbox(base_url, portal_data, browser_page):
    """Open a thread (it becomes read), reply and see it sent, set "Meeting booked", search
    the inbox, open a lead page; screenshots of each at desktop and 390 px."""
    page, base = browser_page, base_url
    api = settings.INSTANTLY_API_BASE_URL.rstrip("/") + "/api/v2"
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add(responses.POST, f"{api}/emails/reply", json={"id": "browser-sent-1"})
    mock.add(responses.POST, f"{api}/leads/update-interest-status", json={"message": "ok"})
    mock.start()
    try:
        page.goto(base + "/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")

        def both(name):
            shot(page, f"20-{name}-desktop")
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
            shot(page, f"20-{name}-phone")
            page.set_viewport_size({"width": 1360, "height": 900})

        page.goto(base + "/inbox/?state=all")
        page.click(".thread-row.unread a >> nth=0")
        page.wait_for_selector("ol.conversation")
        assert page.locator(".badge.warn:has-text('Unread')").count() == 0
        both("thread-read")

        page.fill("#reply textarea", "Thanks! Does **Tuesday 10:00** work for you?")
        page.click("text=Send reply")
        page.wait_for_selector("text=Reply sent.")
        sent = page.locator(".message.outbound").last
        assert "Sent" in sent.inner_text() and "Tuesday 10:00" in sent.inner_text()
        both("thread-replied")

        page.select_option(".interest-form select", "meeting_booked")
        page.click(".interest-form button")
        page.wait_for_selector("text=Interest updated in Instantly.")
        assert "Meeting booked" in page.locator(".thread-side").inner_text()
        both("thread-meeting-booked")

        page.goto(base + "/inbox/")
        page.fill("input[name=q]", "outbound")
        page.click("text=Filter")
        page.wait_for_selector(".thread-row")
        assert page.locator(".thread-row mark").count() >= 1
        both("inbox-search")

        page.click(".thread-row a >> nth=0")
        page.click("text=Lead page →")
        page.wait_for_selector("h2:text('Timeline')")
        assert "Meeting booked" in page.content() or "Status" in page.content()
        both("lead-page")
        assert [c.request.url.rsplit("/", 1)[-1] for c in mock.calls].count("reply") == 1
    finally:
        mock.stop()
        mock.reset()
