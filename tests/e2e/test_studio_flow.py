"""The studio in a real browser: sign in, upload by the file chooser, see the preview and the price, generate with
the emulator, land on the video page, and play and seek the finished video."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


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
    page.wait_for_function("document.getElementById('upload-preview-img').naturalWidth > 0")
    assert page.input_value("#upload-slot [name=reference_upload_id]").isdigit()

    price = int(re.sub(r"\D", "", page.text_content("#quote-price")))
    assert price > 0
    page.select_option("#studio-duration", "8")
    page.wait_for_function(f"document.getElementById('quote-price').textContent.includes('{2 * price}')")
    page.select_option("#studio-duration", "4")
    page.wait_for_function(f"document.getElementById('quote-price').textContent.trim() === '{price} credits'")

    page.fill("#studio-prompt", "A slow orbit around the product on a warm studio set")
    assert page.text_content("#prompt-counter [data-count]") == str(len("A slow orbit around the product on a warm studio set"))
    page.click("#studio-submit")
    page.wait_for_url(re.compile(r"/videos/\d+$"))
    assert _credits(page) == before - price
    assert page.locator(".reference-figure img").get_attribute("src").startswith("/media/uploads/")

    # The page follows the job (no reload) until the player appears.
    page.wait_for_selector("video.video-player", timeout=90_000)
    video = "document.querySelector('video.video-player')"
    assert page.evaluate(f"{video}.hasAttribute('controls') && {video}.hasAttribute('playsinline')")
    page.evaluate(f"{video}.muted = true; {video}.play()")
    page.wait_for_function(f"{video}.readyState >= 4", timeout=30_000)
    page.wait_for_function(f"{video}.currentTime > 0.2", timeout=30_000)
    page.evaluate(f"{video}.pause(); {video}.currentTime = 2.5")
    page.wait_for_function(f"!{video}.seeking && Math.abs({video}.currentTime - 2.5) < 0.3", timeout=30_000)

    download = page.get_attribute("a[download]", "href")
    assert download.endswith("?download=1")
