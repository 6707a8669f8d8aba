"""/docs (Swagger UI) and /redoc load in Chromium from our own static files, with every other host blocked,
and without a single Content-Security-Policy violation."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


@pytest.fixture
def offline_page(browser, live_server):
    """A tab that can reach the live server only; what it tried to reach elsewhere, and its CSP complaints."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    blocked: list[str] = []
    ours = urlsplit(live_server.url).netloc

    def only_ours(route):
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    tab = context.new_page()
    violations: list[str] = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab, blocked, violations
    context.close()


def test_swagger_ui_renders_the_api_offline(offline_page):
    tab, blocked, violations = offline_page
    response = tab.goto("/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    tab.locator(".swagger-ui .info .title").filter(has_text="AdsVideo API").wait_for()
    tab.locator(".opblock-summary-path", has_text="/api/v1/videos/generate").first.wait_for()
    assert blocked == [] and violations == []


def test_redoc_renders_the_api_offline(offline_page):
    tab, blocked, violations = offline_page
    assert tab.goto("/redoc").status == 200
    tab.locator("h1", has_text="AdsVideo API").first.wait_for()
    tab.get_by_text("/api/v1/showcase/featured").first.wait_for()
    # ReDoc's footer badge asks for its logo from its CDN; refused, the badge hides itself (and the page's
    # img-src 'self' refuses it in a browser with no route blocking). Nothing else leaves the machine.
    assert all(url.startswith("https://cdn.redoc.ly/redoc/logo") for url in blocked), blocked
    assert violations == []
