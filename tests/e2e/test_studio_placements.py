"""The studio's placements and variations in a real browser: the placement narrows the models and sizes and the crop
preview follows it; three variations make three videos that play side by side."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def sign_in_to_the_studio(page) -> None:
    """Through the Google emulator's chooser, as the seeded Basic demo account."""
    page.goto("/create")  # not signed in: sent to Google (the emulator's chooser)
    page.get_by_label("Email", exact=True).fill("basic@demo.adsvideo.local")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/create$"))


def choose_placement(page, ratio: str) -> None:
    """Click a placement and wait for the settings block the server sends back for it, settled: htmx keeps the
    old block's classes on the new one for a moment after the swap."""
    page.check(f"#studio-placements input[value='{ratio}']")
    page.wait_for_selector(f"#crop-preview.ratio-{ratio.replace(':', 'x')}[data-ratio='{ratio}']")


def options(page, select: str) -> list[str]:
    return page.eval_on_selector_all(f"{select} option", "els => els.map(e => e.value)")


def eventually(page, script: str, timeout: float = 120.0):
    """Poll `script` (evaluated in the page) until it is truthy; the page's CSP forbids wait_for_function."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := page.evaluate(script):
            return value
        time.sleep(0.2)
    raise AssertionError(f"never true: {script}")


def test_placement_narrows_models_and_sizes_and_the_crop_follows(page) -> None:
    page.set_default_timeout(45_000)
    sign_in_to_the_studio(page)
    everything = options(page, "#studio-model")
    assert page.is_checked("#studio-placements input[value='16:9']")

    choose_placement(page, "1:1")
    square = options(page, "#studio-model")
    assert square == ["gen4_turbo", "gen4.5"] and len(square) < len(everything)
    assert options(page, "#studio-size") == ["960x960"]

    page.check("input[name=trial_image_id]:not([value=''])")
    choose_placement(page, "9:16")
    models = options(page, "#studio-model")
    assert "sora-2" in models and "veo-3.1-fast" in models
    sizes = options(page, "#studio-size")
    assert sizes and all(int(w) < int(h) for w, h in (s.split("x") for s in sizes))  # portrait sizes only
    expect(page.locator("#crop-preview")).to_have_css("aspect-ratio", "9 / 16")
    trial_src = page.get_attribute(".trial-option:has(input[name=trial_image_id]:checked) img", "src")
    expect(page.locator("#crop-preview img")).to_have_attribute("src", trial_src)
    assert page.is_visible("#crop-preview img")
    assert page.is_disabled("#studio-placements input[value='4:5']")


def test_three_variations_play_side_by_side(page) -> None:
    page.set_default_timeout(45_000)
    sign_in_to_the_studio(page)
    choose_placement(page, "9:16")
    # Two choices in quick succession, the second before the first one's answer is back: both hold.
    page.select_option("#studio-model", "sora-2")
    page.select_option("#studio-variations", "3")
    expect(page.locator("#studio-model")).to_have_value("sora-2")
    expect(page.locator("#quote-price")).to_have_text("300 credits (3 × 100)", timeout=15_000)
    expect(page.locator("#studio-submit")).to_contain_text("3 videos")
    page.fill("#studio-prompt", "Three takes on a cold brew can on a sunny windowsill")
    page.click("#studio-submit")
    page.wait_for_url(re.compile(r"/videos/group/[0-9a-f-]{36}$"))
    expect(page.locator(".variation-cell")).to_have_count(3)
    expect(page.locator("#variation-grid video.video-player")).to_have_count(3, timeout=120_000)
    sources = page.eval_on_selector_all(
        "#variation-grid video.video-player", "els => els.map(v => v.getAttribute('src'))"
    )
    assert len(set(sources)) == 3  # three different videos
    widths = eventually(
        page,
        "(() => { const w = [...document.querySelectorAll('#variation-grid video')]"
        ".map(v => v.videoWidth); return w.every(x => x > 0) && w; })()",
    )
    assert widths == [720, 720, 720]

    page.goto("/videos")
    assert page.locator(".video-card .variation-badge").count() >= 3
