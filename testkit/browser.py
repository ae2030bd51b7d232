"""Browser tests' plumbing: Debian's headless Chromium driven by Playwright, screenshots.

Chromium comes from `SALESBRAIN_CHROMIUM` (default /usr/bin/chromium). Without it a browser
test is skipped, unless `SALESBRAIN_REQUIRE_INTEGRATION=1`, which turns the skip into a failure.
Screenshots land in `artifacts/screenshots/` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


def chromium_path() -> str:
    path = os.environ.get("SALESBRAIN_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).is_file():
        message = f"Chromium not found at {path} (set SALESBRAIN_CHROMIUM)"
        if os.environ.get("SALESBRAIN_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def open_page(chromium: str, viewport=(1360, 900)):
    """A fresh page in headless Chromium; nothing outside 127.0.0.1 is ever contacted."""
    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True
        )
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith("http://127.0.0.1")
                or route.request.url.startswith("http://localhost")
                else route.abort()
            ),
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def shot(page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
