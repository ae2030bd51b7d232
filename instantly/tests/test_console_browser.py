"""The operator console in a real browser at 1,440 px: the agency overview and the campaign,
mailbox and webhook lists read without sideways scrolling, and a campaign's page shows its
schedule and sequence as text. Screenshots go to `artifacts/screenshots/console-*.png`."""

from __future__ import annotations

import pytest

from accounts.tenancy import staff_scope
from campaigns.models import Campaign
from instantly.models import WebhookEvent
from testkit import PASSWORD, build_org_dataset, make_console_rows, make_webhook_event
from testkit.browser import chromium_path, open_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1440
LONG_ERROR = (
    "Campaign 0197f1c2-aaaa-7bbb-8ccc-123456789abc not found in workspace ws-shared while "
    "applying a reply_received event for lead someone.with.a.long.name@very-long-domain.example"
)
# (name, url): the pages the issue names.
PAGES = (
    ("overview", "/admin/"),
    ("campaigns", "/admin/campaigns/campaign/"),
    ("mailboxes", "/admin/campaigns/emailaccount/"),
    ("webhooks", "/admin/instantly/webhookevent/"),
)
# Document and the changelist's own scroll box (`.results` scrolls a too-wide table).
OVERFLOW = """() => [document.documentElement, ...document.querySelectorAll('.results, #content-main')]
    .map(el => ({id: el.className || el.id || el.tagName, scroll: el.scrollWidth,
                 client: el.clientWidth}))"""


@pytest.fixture
def console_data(adam, org_a, org_b, tenant_rows, shared_connection):
    build_org_dataset(org_a, campaigns=5, leads_per_campaign=10, replies_per_campaign=3)
    build_org_dataset(org_b, campaigns=3, leads_per_campaign=10, replies_per_campaign=3)
    make_console_rows(tenant_rows, org_a, shared_connection)
    for i in range(12):
        make_webhook_event(
            shared_connection,
            f"long-{i}",
            WebhookEvent.Status.FAILED,
            organization=org_a if i % 2 else None,
            event_type_raw="lead_meeting_booked" if i % 3 else "reply_received",
            campaign_instantly_id="0197f1c2-aaaa-7bbb-8ccc-123456789abc",
            last_error=LONG_ERROR,
        )
    with staff_scope():
        campaign = Campaign.objects.filter(organization=org_a).order_by("name").first()
        campaign.schedule = {
            "schedules": [
                {
                    "name": "Business hours",
                    "timing": {"from": "09:00", "to": "17:00"},
                    "days": {str(d): 1 <= d <= 5 for d in range(7)},
                    "timezone": "Europe/Berlin",
                }
            ]
        }
        campaign.sequences[0]["steps"][0]["variants"][0]["body"] = (
            "<div>Hi {{firstName}},</div><div><script>alert(1)</script>worth a chat?</div>"
        )
        campaign.save(update_fields=["schedule", "sequences"])
    return campaign.pk


@pytest.fixture
def base_url(transactional_db, live_server) -> str:
    return live_server.url


@pytest.fixture
def console_page(console_data, base_url, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with open_page(chromium_path(), viewport=(WIDTH, 900)) as page:
        page.goto(base_url + "/admin/login/")
        page.fill("#id_username", "adam")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(base_url + "/admin/")
        yield page


def test_console_lists_fit_1440_px_without_sideways_scrolling(console_page, base_url, capsys):
    page = console_page
    for name, url in PAGES:
        page.goto(base_url + url)
        boxes = page.evaluate(OVERFLOW)
        shot(page, f"console-{name}")
        with capsys.disabled():
            print(
                f"\n{name}: " + ", ".join(f"{b['id']} {b['scroll']}/{b['client']}" for b in boxes)
            )
        for box in boxes:
            assert box["scroll"] <= box["client"], (name, box)
    assert page.locator("#result_list tbody tr").count() >= 12


def test_the_overview_shows_both_customers_and_the_shared_workspace(console_page, base_url):
    page = console_page
    page.goto(base_url + "/admin/")
    rows = page.locator("#agency-overview tbody tr")
    assert rows.count() == 3
    text = page.locator("#agency-overview").inner_text()
    assert "Acme Outreach" in text and "Bluebird Growth" in text and "Shared workspace" in text
    # "View as" opens the customer's own pages.
    page.click("#agency-overview tr:has-text('Bluebird Growth') button:has-text('View as')")
    page.wait_for_selector("h1:text('Dashboard')")
    assert "You are viewing Bluebird Growth" in page.locator(".staffbar").inner_text()


def test_a_campaign_page_reads_as_text(console_page, base_url, console_data):
    page = console_page
    page.goto(f"{base_url}/admin/campaigns/campaign/{console_data}/change/")
    schedule = page.locator(".field-schedule_display").inner_text()
    assert "Mon–Fri 09:00–17:00 (Europe/Berlin)" in schedule
    sequence = page.locator(".field-sequence_display").inner_text()
    assert "Step 1" in sequence and "Step 2" in sequence and "3 days after step 1" in sequence
    assert "<script>" in sequence or "alert(1)" in sequence  # shown as text, never run
    assert page.locator(".field-sequence_display script").count() == 0
    shot(page, "console-campaign")
