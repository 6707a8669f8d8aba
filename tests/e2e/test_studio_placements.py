"""The studio's placements and variations in a real browser: the placement narrows the models and sizes and the crop
preview follows it; three variations make three videos that play side by side."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def choose_placement(page, ratio: str) -> None:
    """Click a placement and wait until htmx has swapped and settled the new settings block."""
    page.evaluate("window.__settled = false; document.body.addEventListener('htmx:afterSettle', "
                  "() => { window.__settled = true; }, { once: true })")
    page.check(f"#studio-placements input[value='{ratio}']")
    page.wait_for_function("window.__settled === true")


def sign_in_to_the_studio(page) -> None:
    """Through the Google emulator's chooser, as the seeded Basic demo account."""
    page.goto("/create")  # not signed in: sent to Google (the emulator's chooser)
    page.get_by_label("Email", exact=True).fill("basic@demo.adsvideo.local")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/create$"))


def options(page, select: str) -> list[str]:
    return page.eval_on_selector_all(f"{select} option", "els => els.map(e => e.value)")


def test_placement_narrows_models_and_sizes_and_the_crop_follows(page) -> None:
    page.set_default_timeout(45_000)
    sign_in_to_the_studio(page)
    everything = options(page, "#studio-model")
    assert page.is_checked("#studio-placements input[value='16:9']")

    choose_placement(page, "1:1")
    square = options(page, "#studio-model")
    assert square == ["gen4_turbo", "gen4.5"] and len(square) < len(everything)
    assert options(page, "#studio-size") == ["960x960"]

    page.check(".trial-option input[value]:not([value=''])")
    choose_placement(page, "9:16")
    assert "sora-2" in options(page, "#studio-model") and "gen4_turbo" in options(page, "#studio-model")
    sizes = options(page, "#studio-size")
    assert sizes and all(int(w) < int(h) for w, h in (s.split("x") for s in sizes))  # portrait sizes only
    frame = page.locator("#crop-preview")
    assert frame.get_attribute("data-ratio") == "9:16"
    assert page.evaluate("getComputedStyle(document.getElementById('crop-preview')).aspectRatio") == "9 / 16"
    trial_src = page.get_attribute(".trial-option input:checked + img", "src")
    page.wait_for_function("!document.querySelector('#crop-preview img').hidden")
    assert page.get_attribute("#crop-preview img", "src") == trial_src
    assert page.is_disabled("#studio-placements input[value='4:5']")


def test_three_variations_play_side_by_side(page) -> None:
    page.set_default_timeout(45_000)
    sign_in_to_the_studio(page)
    choose_placement(page, "9:16")
    page.select_option("#studio-model", "sora-2")
    page.wait_for_function("document.querySelector('#studio-model').value === 'sora-2'")
    page.evaluate("window.__settled = false; document.body.addEventListener('htmx:afterSettle', "
                  "() => { window.__settled = true; }, { once: true })")
    page.select_option("#studio-variations", "3")
    page.wait_for_function("window.__settled === true")
    assert page.text_content("#quote-price").strip() == "300 credits (3 × 100)"
    assert "3 videos" in page.text_content("#studio-submit")
    page.fill("#studio-prompt", "Three takes on a cold brew can on a sunny windowsill")
    page.click("#studio-submit")
    page.wait_for_url(re.compile(r"/videos/group/[0-9a-f-]{36}$"))
    assert page.locator(".variation-cell").count() == 3
    page.wait_for_function("document.querySelectorAll('#variation-grid video.video-player').length === 3",
                           timeout=120_000)
    sizes = page.eval_on_selector_all("#variation-grid video.video-player", "els => els.map(v => v.getAttribute('src'))")
    assert len(set(sizes)) == 3  # three different videos
    page.wait_for_function("[...document.querySelectorAll('#variation-grid video')].every(v => v.readyState >= 1)")
    assert page.evaluate("[...document.querySelectorAll('#variation-grid video')].map(v => v.videoWidth)") == [720] * 3

    page.goto("/videos")
    assert page.locator(".video-card .variation-badge").count() >= 3
