"""In Chromium: the "Make it an ad" panel's preview follows the CTA text as it is typed, finishing runs
live on the video page, and the finished rendition plays with a captions track to pick."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from app import db
from app.accounts import users as users_service
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.conftest import start_server, stop_server
from tests.finishing_media import make_clip
from tests.studio_factories import make_video

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of our own with the embedded worker, so the finishing job runs behind it."""
    live = start_server(tmp_path_factory.mktemp("finishing-live"))
    yield live
    stop_server(live)


@pytest.fixture
def database(server, monkeypatch):
    """Run coroutines against the server's database and media folder."""
    monkeypatch.setenv("DATABASE_URL", server.env["DATABASE_URL"])
    monkeypatch.setenv("MEDIA_ROOT", server.env["MEDIA_ROOT"])
    get_settings.cache_clear()
    db.bind_engine(db.make_engine(server.env["DATABASE_URL"]))
    yield run_blocking
    get_settings.cache_clear()


def wait_js(tab, condition: str, timeout: float = 180) -> None:
    """Poll a JavaScript condition from here (the page's CSP forbids the eval `wait_for_function` needs)."""
    deadline = time.monotonic() + timeout
    while not tab.evaluate(f"() => Boolean({condition})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {condition}")
        tab.wait_for_timeout(200)


@pytest.fixture
def tab(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(60_000)  # a busy machine; nothing here is timed
    page = context.new_page()
    yield page
    context.close()


def test_preview_follows_the_cta_and_the_rendition_plays_with_captions(tab, database, tmp_path):
    email = f"ads-{uuid.uuid4().hex[:8]}@example.com"
    tab.goto(f"/auth/login?login_hint={email}&next=/account")
    tab.wait_for_url(re.compile(r"^https?://[^/]+/account$"))
    user = database(users_service.get_user_by_email(email))
    clip = make_clip(tmp_path / "clip.mp4", seconds=2, width=640, height=360).read_bytes()
    video = database(make_video(user.id, body=clip))

    tab.goto(f"/videos/{video.id}")
    form = tab.locator(f"#finish-form-{video.id}")
    form.wait_for()
    card = tab.locator("#finish-preview-card")
    wait_js(tab, "document.getElementById('finish-preview-card').naturalWidth > 0")
    before_src = card.get_attribute("src")
    before = tab.request.get(before_src).body()

    form.locator("input[name=cta_text]").fill("Order today")
    wait_js(tab, "document.getElementById('finish-preview-card').src.includes('Order+today')")
    wait_js(
        tab,
        "document.getElementById('finish-preview-card').complete "
        "&& document.getElementById('finish-preview-card').naturalWidth > 0",
    )
    after = tab.request.get(card.get_attribute("src")).body()
    assert after != before, "the end card was drawn again with the new call to action"

    form.locator("input[name=hook_text]").fill("Stay cold")
    form.locator("textarea[name=captions]").fill("Cold all day\nFits every bag")
    for placement in ("1:1", "4:5", "16:9"):
        form.locator(f"input[name=placements][value='{placement}']").uncheck()
    form.locator("input[name=end_seconds]").fill("1")
    form.locator("button[type=submit]").click()

    player = tab.locator(".finish-set .rendition-player").first
    player.wait_for(timeout=180_000)
    assert tab.locator(".finish-set .rendition").get_attribute("data-placement") == "9:16"
    wait_js(
        tab,
        "(() => { const v = document.querySelector('.finish-set .rendition-player');"
        " return v && v.textTracks.length === 1 && v.textTracks[0].kind === 'captions'; })()",
    )
    tab.evaluate(
        "(() => { const v = document.querySelector('.finish-set .rendition-player');"
        " v.textTracks[0].mode = 'showing'; v.muted = true; v.play(); })()"
    )
    wait_js(
        tab,
        "(() => { const v = document.querySelector('.finish-set .rendition-player');"
        " return v.currentTime > 0.3 && v.textTracks[0].cues && v.textTracks[0].cues.length === 2; })()",
    )
    cues = tab.evaluate(
        "Array.from(document.querySelector('.finish-set .rendition-player').textTracks[0].cues).map(c => c.text)"
    )
    assert cues == ["Cold all day", "Fits every bag"]
    size = tab.evaluate(
        "(() => { const v = document.querySelector('.finish-set .rendition-player');"
        " return [v.videoWidth, v.videoHeight]; })()"
    )
    assert size == [360, 640]
