"""In Chromium: the bell counts up live when a job finishes; a share link plays for an anonymous visitor until
it is turned off; only the embed page plays inside another site's iframe, every other page refuses to be framed."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.emulators import serve_asgi

pytestmark = pytest.mark.browser

# Pressing play again while the clip buffers, as a person would; true once it has played a little.
PLAYS = "v => v && (v.muted = true, v.paused && v.play().catch(() => {}), v.currentTime > 0.2)"


def wait_until_playing(frame, selector: str, timeout: float = 60.0) -> None:
    """Poll from here: the pages' Content-Security-Policy forbids the eval a string predicate would need."""
    deadline = time.monotonic() + timeout
    while not frame.locator(selector).evaluate(PLAYS):
        if time.monotonic() > deadline:
            state = frame.locator(selector).evaluate(
                "v => ({readyState: v.readyState, error: v.error && v.error.message, src: v.currentSrc})"
            )
            raise AssertionError(f"{selector} never played: {state}")
        time.sleep(0.2)


def make_finished_video(page, live_server) -> int:
    """Sign a fresh basic-plan user in, make a video in the studio, wait on its page until the player shows."""
    email = f"share-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"/auth/login?login_hint={email}&next=/account")
    page.wait_for_url("**/account")
    live_server.cli("set-plan", email, "basic")
    page.goto("/create")
    page.fill("#studio-prompt", "A perfume bottle turning slowly on black glass")
    page.click("#studio-submit")
    page.wait_for_url(re.compile(r"/videos/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_the_bell_counts_up_live_and_a_shared_link_plays_for_anyone_until_turned_off(browser, page, live_server):
    page.set_default_timeout(60_000)  # the machine may be busy; nothing here is timed
    page.on("dialog", lambda dialog: dialog.accept())
    video_id = make_finished_video(page, live_server)
    before = int(page.get_attribute("#header-bell", "data-unread"))  # the plan's credits were announced already
    page.evaluate("window.noReload = 'same page'")

    page.wait_for_selector(f"#video-player-{video_id}", timeout=90_000)
    page.wait_for_selector(f"#header-bell[data-unread='{before + 1}']")
    assert page.inner_text("#header-bell .bell-count") == str(before + 1)
    assert page.evaluate("window.noReload") == "same page"

    page.click("#share-panel button:has-text('Create a share link')")
    url = page.input_value(".share-url")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43}", url)

    visitor = browser.new_context()  # no session: the public
    try:
        public = visitor.new_page()
        public.set_default_timeout(60_000)
        public.goto(url)
        assert public.locator("h1.share-title").inner_text() == "A perfume bottle turning slowly on black glass"
        wait_until_playing(public, "#shared-video")

        page.click("#share-panel button:has-text('Turn the link off')")
        page.wait_for_selector("#share-panel button:has-text('Create a share link')")
        gone = public.goto(url)
        assert gone.status == 404
    finally:
        visitor.close()

    page.goto("/notifications")
    assert "Your video is ready" in page.inner_text("#notification-list")


def host_page(embed_url: str, page_url: str):
    """Another site (another origin) that frames our embed page and our share page."""
    html = (
        f"<!doctype html><title>A partner blog</title><h1>Our new ad</h1>"
        f'<iframe name="embed" src="{embed_url}" width="640" height="360" allow="autoplay"></iframe>'
        f'<iframe name="page" src="{page_url}" width="640" height="360"></iframe>'
    ).encode()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": html})

    return app


def test_only_the_embed_page_plays_inside_another_sites_iframe(page, live_server):
    page.set_default_timeout(60_000)
    video_id = make_finished_video(page, live_server)
    page.wait_for_selector(f"#video-player-{video_id}", timeout=90_000)
    page.click("#share-panel button:has-text('Create a share link')")
    url = page.input_value(".share-url")

    with serve_asgi(host_page(f"{url}/embed", url)) as other_site:
        assert other_site.rsplit(":", 1)[1] != live_server.url.rsplit(":", 1)[1]  # a different origin
        page.goto(other_site)
        page.wait_for_load_state("load")
        embed = page.frame(name="embed")
        embed.wait_for_selector("#embedded-video")
        wait_until_playing(embed, "#embedded-video")

        framed_page = page.frame(name="page")
        # Chromium refuses the share page (frame-ancestors 'none'): an error document, not our page.
        assert framed_page.evaluate("() => document.querySelector('#shared-video')") is None
        assert "A perfume bottle" not in framed_page.evaluate("() => document.documentElement.innerText")
