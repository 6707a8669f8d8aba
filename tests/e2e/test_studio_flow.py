"""The studio in a real browser: sign in, upload by the file chooser, see the preview and the price, generate with
the emulator, land on the video page, and play and seek the finished video."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


VIDEO = "document.querySelector('video.video-player')"


def wait_video(page, condition: str) -> None:
    """Wait for `condition`; on a timeout, say what the player was doing."""
    try:
        page.wait_for_function(f"() => ({condition})", timeout=45_000)
    except Exception as exc:
        state = page.evaluate(
            f"(() => {{ const v = {VIDEO}; return v && {{readyState: v.readyState, networkState: v.networkState, "
            "paused: v.paused, currentTime: v.currentTime, duration: v.duration, seeking: v.seeking, "
            "error: v.error && v.error.message, src: v.currentSrc}}; })()"
        )
        raise AssertionError(f"{condition} never became true; the player: {state}") from exc


def choose(page, select: str, value: str) -> None:
    """Pick an option and wait until htmx has swapped and settled the new settings block (so it is live again)."""
    page.evaluate(
        "window.__settled = false; document.body.addEventListener('htmx:afterSettle', "
        "() => { window.__settled = true; }, { once: true })"
    )
    page.select_option(select, value)
    page.wait_for_function("() => window.__settled === true")


def _credits(page) -> int:
    return int(re.sub(r"\D", "", page.text_content("#header-credits")))


def test_upload_generate_and_play(page, tmp_path):
    page.set_default_timeout(45_000)  # the machine may be busy; nothing here is timed
    photo = tmp_path / "product.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), (210, 90, 40)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    page.goto("/auth/login?login_hint=basic@demo.adsvideo.local&next=/create")
    page.wait_for_url(re.compile(r"/create$"))
    before = _credits(page)

    with page.expect_file_chooser() as chooser:
        page.click("#dropzone")
    chooser.value.set_files(str(photo))
    preview = page.wait_for_selector("#upload-preview-img")
    assert preview.get_attribute("src").startswith("/media/uploads/")
    page.wait_for_function("() => document.getElementById('upload-preview-img').naturalWidth > 0")
    assert page.input_value("#upload-slot [name=reference_upload_id]").isdigit()

    price = int(re.sub(r"\D", "", page.text_content("#quote-price")))
    assert price > 0
    choose(page, "#studio-duration", "8")
    assert page.text_content("#quote-price").strip() == f"{2 * price} credits"
    choose(page, "#studio-duration", "4")
    assert page.text_content("#quote-price").strip() == f"{price} credits"

    page.fill("#studio-prompt", "A slow orbit around the product on a warm studio set")
    assert page.text_content("#prompt-counter [data-count]") == str(
        len("A slow orbit around the product on a warm studio set")
    )
    page.click("#studio-submit")
    page.wait_for_url(re.compile(r"/videos/\d+$"))
    assert _credits(page) == before - price
    assert page.locator(".reference-figure img").get_attribute("src").startswith("/media/uploads/")

    # The page follows the job (no reload) until the player appears.
    page.wait_for_selector("video.video-player", timeout=90_000)
    assert page.evaluate(f"{VIDEO}.hasAttribute('controls') && {VIDEO}.hasAttribute('playsinline')")
    page.evaluate(f"{VIDEO}.muted = true; {VIDEO}.play().catch(() => {{}})")
    # Like a person pressing play again if the first press was lost, while the clip buffers.
    wait_video(page, f"(({VIDEO}.paused && {VIDEO}.play().catch(() => {{}})), {VIDEO}.readyState >= 4)")
    wait_video(page, f"{VIDEO}.currentTime > 0.2")
    page.evaluate(f"{VIDEO}.pause(); {VIDEO}.currentTime = 2.5")
    wait_video(page, f"!{VIDEO}.seeking && Math.abs({VIDEO}.currentTime - 2.5) < 0.3")

    download = page.get_attribute("a[download]", "href")
    name = "a-slow-orbit-around-the-product-on-a-warm-studio-set.mp4"
    assert download.endswith(f"?download={name}") and page.get_attribute("a[download]", "download") == name
