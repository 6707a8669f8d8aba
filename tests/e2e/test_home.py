"""The home page in Chromium: the hero carousel plays, a filter swaps only the grid, "try with this photo"
leads to the studio with the photo chosen, and nothing overflows at phone width."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser


def test_hero_carousel_plays_and_moves(page):
    page.goto("/")
    page.wait_for_selector(".hero-carousel.is-carousel")
    first = ".carousel-slide:nth-child(1) video"
    page.wait_for_function(f"() => document.querySelector('{first}').currentTime > 0.3")
    assert page.evaluate(f"document.querySelector('{first}').muted")
    # The next arrow brings the second slide into view; it plays and its dot is current.
    page.click("[data-carousel-next]")
    page.wait_for_function(
        "() => document.querySelector('[data-carousel-dot=\"1\"]').getAttribute('aria-current') === 'true'"
    )
    page.wait_for_function("() => document.querySelector('.carousel-slide:nth-child(2) video').currentTime > 0.2")
    assert page.evaluate(f"document.querySelector('{first}').paused")


def test_category_filter_swaps_the_grid_without_a_page_load(page):
    page.goto("/")
    page.evaluate("window.__sameDocument = true")
    page.click("#showcase-grid .chip:text-is('Tech')")
    page.wait_for_selector("#showcase-grid .chip.active:text-is('Tech')")
    titles = page.locator("#showcase-grid .video-card-title").all_inner_texts()
    assert sorted(titles) == ["Always on", "Studio sound", "The sound of focus"]
    assert page.evaluate("window.__sameDocument") is True  # no navigation happened
    assert "category=Tech" in page.url  # the URL can be shared or reloaded
    page.click("#showcase-grid .chip:text-is('All')")
    page.wait_for_selector("#showcase-grid .chip.active:text-is('All')")
    assert page.locator("#showcase-grid .video-card-title").count() == 9
    assert page.evaluate("window.__sameDocument") is True


def test_filter_links_work_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    tab = context.new_page()
    tab.goto("/")
    tab.click("#showcase-grid .chip:text-is('Beauty')")
    tab.wait_for_url("**/?category=Beauty#showcase")
    assert sorted(tab.locator("#showcase-grid .video-card-title").all_inner_texts()) == [
        "Bold red",
        "Evening bloom",
        "Glow serum",
    ]
    # Without JavaScript the hero videos are a plain list, all visible.
    assert tab.locator(".hero-carousel.is-carousel").count() == 0
    assert tab.locator(".carousel-slide video").count() == 3
    context.close()


def test_try_with_this_photo_leads_to_the_studio_with_it_chosen(page, live_server):
    page.goto("/")
    link = page.locator(".trial-try").first
    trial_id = link.get_attribute("data-trial-image")
    # /auth/login redirects on to Google (the emulator's account chooser), so catch the login URL on the way.
    with page.expect_response(lambda response: "/auth/login?" in response.url) as login:
        link.click()
    login_url = login.value.url
    query = parse_qs(urlsplit(login_url).query)
    assert query["next"] == [f"/create?trial_image={trial_id}"]
    page.goto(login_url + "&login_hint=pro%40demo.adsvideo.local")
    page.wait_for_url(f"**/create?trial_image={trial_id}")
    assert page.is_checked(f"input[name=trial_image_id][value='{trial_id}']")


def test_home_fits_a_phone_screen(phone_page):
    phone_page.goto("/")
    phone_page.wait_for_selector("#showcase-grid")
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # The hero copy and the carousel stack in one column; the call to action is reachable.
    copy_box = phone_page.locator(".home-hero-copy").bounding_box()
    carousel_box = phone_page.locator(".hero-carousel").bounding_box()
    assert carousel_box["y"] >= copy_box["y"] + copy_box["height"] - 1
    cta = phone_page.locator(".home-cta [role=button]")
    cta.scroll_into_view_if_needed()
    assert cta.is_visible()
