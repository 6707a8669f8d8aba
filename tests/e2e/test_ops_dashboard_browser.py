"""In Chromium: the admin dashboard draws its charts, and its figures refresh on their own (htmx timer)
when something happens, without reloading the page."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, start_server, stop_server
from tests.e2e.sse import sign_in
from tests.services import CHROMIUM, require


@pytest.fixture
def quick_refresh_server(tmp_path):
    server = start_server(tmp_path, DASHBOARD_REFRESH_SECONDS="1")
    yield server
    stop_server(server)


def test_the_dashboard_draws_its_charts_and_refreshes_its_figures(quick_refresh_server):
    require("chromium")
    from playwright.sync_api import sync_playwright

    server = quick_refresh_server
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    server.cli("create-admin", email)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.goto(f"/auth/login?login_hint={email}&next=/admin")
            page.wait_for_url("**/admin")
            assert page.get_by_role("heading", name="Dashboard").is_visible()

            charts = page.locator("svg.chart-svg")
            assert charts.count() == 3
            for i in range(3):
                box = charts.nth(i).bounding_box()
                assert box and box["width"] > 300 and box["height"] > 80
            bars = page.locator("#chart-sign-ups-per-day rect")
            assert bars.count() >= 1  # the admin and the demo users signed up today
            box = bars.last.bounding_box()
            assert box and box["height"] > 0
            # The numbers behind each chart are in a table.
            assert page.locator("#chart-sign-ups-per-day table tbody tr").count() == 30

            before = int(page.locator('[data-figure="signups-today"]').inner_text().replace(",", ""))
            page.evaluate("window.__notReloaded = true")
            with httpx.Client(base_url=server.url, timeout=30) as other:
                sign_in(other, f"new-{uuid.uuid4().hex[:8]}@example.com")  # a sign-up happens meanwhile
            page.wait_for_function(
                "n => Number(document.querySelector('[data-figure=\"signups-today\"]').textContent.replace(/,/g, '')) === n",
                arg=before + 1,
            )
            assert page.evaluate("window.__notReloaded === true")
            assert page.locator("svg.chart-svg").count() == 3  # the swapped-in block drew them again
        finally:
            browser.close()
