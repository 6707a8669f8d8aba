"""In Chromium: the video page follows the job live through htmx's SSE extension, without reloading."""

from __future__ import annotations

import pytest

from tests.e2e.live_cluster import (
    SHOWCASE_MP4,
    cluster,
    complete,
    new_email,
    user_id,
    worker,
)
from tests.live_steps import credits, fail_with_refund, new_video, step

pytestmark = [pytest.mark.browser, pytest.mark.redis]

# Recorded from the first script on: SSE connections opened and closed by the page.
WATCH_SSE = """
window.sseLog = [];
document.addEventListener("htmx:sseOpen", () => window.sseLog.push("open"));
document.addEventListener("htmx:sseClose", () => window.sseLog.push("close"));
"""


@pytest.fixture
def tab(browser, cluster):
    first, _, _ = cluster
    context = browser.new_context(base_url=first.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_SSE)
    page = context.new_page()
    yield page
    context.close()


def open_live_page(tab, worker, *, charge: int = 0) -> tuple[int, int]:
    email = new_email()
    tab.goto(f"/auth/login?login_hint={email}&next=/account")
    tab.wait_for_url("**/account")
    uid = user_id(worker, email)
    video_id = worker(new_video(uid, charge=charge))
    tab.goto(f"/videos/{video_id}")
    tab.wait_for_function("() => window.sseLog.includes('open')")
    tab.evaluate("window.noReload = 'still the same page'")
    return uid, video_id


def test_steps_appear_and_the_player_replaces_the_progress_without_a_reload(tab, worker):
    _, video_id = open_live_page(tab, worker)
    progress = tab.locator(f"#video-progress-{video_id}")
    assert progress.get_attribute("data-status") == "pending"

    worker(step(video_id, "submitting"))
    tab.locator(f"#video-progress-{video_id} .step-current", has_text="Submitting").wait_for()
    worker(step(video_id, "generating", 40))
    tab.locator(f"#video-progress-{video_id} .progress-percent", has_text="40%").wait_for()
    assert tab.locator(f"#video-progress-{video_id} .step-current").inner_text().startswith("Generating")
    assert tab.locator(f"#video-progress-{video_id} .step-done").count() == 4  # queued … waiting
    worker(step(video_id, "generating", 85))
    tab.locator(f"#video-progress-{video_id} progress[value='85']").wait_for()

    worker(complete(video_id))
    player = tab.locator(f"#video-player-{video_id}")
    player.wait_for()
    assert player.get_attribute("src") == SHOWCASE_MP4
    assert progress.get_attribute("data-status") == "completed"
    assert tab.evaluate("window.noReload") == "still the same page"
    tab.wait_for_function("() => window.sseLog.includes('close')")  # the stream is closed on `done`
    assert tab.evaluate("window.sseLog.filter(e => e === 'open').length") == 1


def test_a_failure_shows_the_error_the_refund_and_the_new_balance(tab, worker):
    uid, video_id = open_live_page(tab, worker, charge=100)
    before = worker(credits(uid))
    assert tab.locator("#header-credits").inner_text() == f"{before} credits"

    worker(step(video_id, "preparing"))
    tab.locator(f"#video-progress-{video_id} .step-current", has_text="Preparing").wait_for()
    worker(fail_with_refund(video_id, "Moderation blocked this prompt."))
    alert = tab.locator(f"#video-result-{video_id} [role=alert]")
    alert.wait_for()
    assert "Moderation blocked this prompt." in alert.inner_text()
    assert "100 credits were refunded" in alert.inner_text()
    assert tab.locator("#header-credits").inner_text() == f"{before + 100} credits"
    # A refused prompt fails the same way again: changing it comes first, the same again second.
    assert (
        tab.locator(f"#video-result-{video_id} .result-actions > :first-child").inner_text() == "Change and try again"
    )
    retry = tab.locator(f"#video-result-{video_id} button", has_text="Try the same again")
    assert retry.is_visible()
    assert tab.locator(f"form[hx-post='/videos/{video_id}/retry']").count() == 1
    assert tab.evaluate("window.noReload") == "still the same page"


def test_cards_on_my_videos_update_from_one_stream(tab, worker):
    email = new_email()
    tab.goto(f"/auth/login?login_hint={email}&next=/account")
    tab.wait_for_url("**/account")
    uid = user_id(worker, email)
    first, second = worker(new_video(uid)), worker(new_video(uid))
    tab.goto("/videos")
    tab.wait_for_function("() => window.sseLog.includes('open')")
    tab.evaluate("window.noReload = 'still the same page'")

    worker(complete(first))
    tab.locator(f"#video-card-{first} .status-completed").wait_for()
    worker(step(second, "generating", 50))
    worker(fail_with_refund(second))
    tab.locator(f"#video-card-{second} .status-failed").wait_for()
    tab.wait_for_function("() => window.sseLog.includes('close')")  # nothing in flight: the stream ends
    assert tab.evaluate("window.sseLog.filter(e => e === 'open').length") == 1
    assert tab.evaluate("window.noReload") == "still the same page"
