"""The live app in a real browser: pages render with the vendored assets, and MP4s play."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_home_page_renders_with_styles_and_htmx(page):
    page.goto("/")
    assert page.title().startswith("AdsVideo")
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("htmx.version").startswith("2.0")
    # Pico's styles are applied: the body font is not the browser default serif.
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "serif"


def test_a_seeded_showcase_mp4_plays_and_seeks(page, live_server):
    page.goto("/")
    page.set_content(
        '<video id="v" muted playsinline preload="auto" src="%s/media/public/showcase/run-lighter.mp4"></video>'
        % live_server.url
    )
    page.wait_for_function("() => document.getElementById('v').readyState >= 4")
    page.evaluate("document.getElementById('v').play()")
    page.wait_for_function("() => document.getElementById('v').currentTime > 0.2")
    page.evaluate("document.getElementById('v').currentTime = 0.5")
    page.wait_for_function("() => Math.abs(document.getElementById('v').currentTime - 0.5) < 0.4")
