"""What the pages look like in Chromium: boxes and computed styles at desktop (1280×800) and phone (390×844).

One pro user with a portrait and a landscape video made through the real pipeline (emulated model).
"""

from __future__ import annotations

import time

import httpx
import pytest

from app import db
from app.accounts import tokens
from app.accounts import users as users_service
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.live_cluster import new_email
from tests.e2e.sse import sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def creator(live_server):
    """A pro user with one finished portrait and one finished landscape video."""
    email = new_email()
    with httpx.Client(base_url=live_server.url, timeout=15) as client:
        sign_in(client, email)
    live_server.cli("set-plan", email, "pro")
    previous = get_settings().database_url
    try:
        get_settings.cache_clear()
        db.bind_engine(db.make_engine(live_server.env["DATABASE_URL"]))
        user = run_blocking(users_service.get_user_by_email(email))
        token = run_blocking(tokens.issue_pair(user.id)).access_token
    finally:
        db.bind_engine(db.make_engine(previous))
    auth = {"Authorization": f"Bearer {token}"}
    ids = {}
    with httpx.Client(base_url=live_server.url, timeout=30, headers=auth) as api:
        for shape, size in (("portrait", "720x1280"), ("landscape", "1280x720")):
            created = api.post(
                "/api/v1/videos/generate",
                json={
                    "prompt": f"A {shape} ad: a perfume bottle on a marble counter, slow push-in",
                    "model": "sora-2",
                    "duration": 4,
                    "resolution": size,
                },
            )
            assert created.status_code == 202, created.text
            ids[shape] = created.json()["id"]
        deadline = time.monotonic() + 120
        for video_id in ids.values():
            while (status := api.get(f"/api/v1/videos/{video_id}").json()["status"]) != "completed":
                assert status != "failed" and time.monotonic() < deadline, status
                time.sleep(0.5)
    return email, ids


def _open(browser, live_server, email: str, viewport: dict, path: str, **options):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, **options)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"/auth/login?login_hint={email}&next={path}")
    page.wait_for_load_state("load")
    return context, page


def test_a_portrait_result_fits_the_viewport_with_its_download_button(browser, live_server, creator):
    email, ids = creator
    context, page = _open(browser, live_server, email, DESKTOP, f"/videos/{ids['portrait']}")
    page.wait_for_function("() => document.querySelector('video.video-player').readyState >= 1")
    player = page.locator("video.video-player").bounding_box()
    download = page.locator("a[download]").bounding_box()
    assert player["y"] + player["height"] <= DESKTOP["height"], player
    assert download["y"] + download["height"] <= DESKTOP["height"], download
    # the picture itself keeps its shape inside the capped box
    assert page.evaluate("getComputedStyle(document.querySelector('video.video-player')).objectFit") == "contain"
    context.close()


def test_my_videos_cards_share_one_thumbnail_shape(browser, live_server, creator):
    email, _ = creator
    context, page = _open(browser, live_server, email, DESKTOP, "/videos")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.video-card-poster img')].every(i => i.complete && i.naturalWidth)"
    )
    boxes = [box for box in (el.bounding_box() for el in page.locator(".video-card-poster").all())]
    assert len(boxes) == 2
    for box in boxes:
        assert abs(box["width"] / box["height"] - 16 / 9) < 0.02, box
    cards = [el.bounding_box() for el in page.locator(".video-card").all()]
    assert abs(cards[0]["height"] - cards[1]["height"]) < 2
    context.close()


def test_my_videos_cards_on_a_phone_show_prompt_model_and_date(browser, live_server, creator):
    email, _ = creator
    context, page = _open(browser, live_server, email, PHONE, "/videos", is_mobile=True, has_touch=True)
    card = page.locator(".video-card").first
    for part in (".video-card-prompt", ".video-card-meta", ".video-card-meta time"):
        element = card.locator(part)
        assert element.is_visible(), part
        assert element.bounding_box()["height"] > 8, part
    assert "Sora 2" in card.locator(".video-card-meta").inner_text()
    context.close()


def test_the_phone_header_is_one_compact_row_with_the_balance_and_a_menu(browser, live_server, creator):
    email, _ = creator
    context, page = _open(browser, live_server, email, PHONE, "/videos", is_mobile=True, has_touch=True)
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 64, header
    credits = page.locator("#header-credits")
    assert credits.is_visible() and "credits" in credits.inner_text()
    toggle = page.locator(".nav-toggle")
    row = [page.locator(".brand").bounding_box(), credits.bounding_box(), toggle.bounding_box()]
    assert max(b["y"] for b in row) - min(b["y"] for b in row) < 20  # one row
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] for b in row)
    assert not page.locator("#site-menu").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.get_by_role("link", name="Create").click()
    page.wait_for_url("**/create")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_the_phone_footer_keeps_its_margins(phone_page):
    phone_page.goto("/pricing")
    text = phone_page.locator(".site-footer small").bounding_box()
    assert text["x"] >= 12 and text["x"] + text["width"] <= PHONE["width"] - 12, text


def test_the_skip_link_appears_on_focus_and_leads_to_the_content(page):
    page.goto("/pricing")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box["y"] >= 0 and skip.is_visible()
    skip.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def _contrast(page, selector: str) -> float:
    return page.evaluate(
        """(selector) => {
          const el = document.querySelector(selector);
          const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
          let bg = el, colour = [255, 255, 255];
          while (bg) {
            const c = rgb(getComputedStyle(bg).backgroundColor);
            if (c.length < 4 || c[3] > 0) { colour = c.slice(0, 3); break; }
            bg = bg.parentElement;
          }
          const lum = (c) => {
            const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
          };
          const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(colour);
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector,
    )


def test_ledger_amounts_are_readable(browser, live_server, creator):
    email, _ = creator
    context, page = _open(browser, live_server, email, DESKTOP, "/account/ledger")
    for selector in (".ledger-table .delta-plus", ".ledger-table .delta-minus"):
        assert _contrast(page, selector) >= 4.5, selector
    context.close()


def test_keyboard_focus_in_the_trial_picker_looks_different_from_the_choice(browser, live_server, creator):
    email, _ = creator
    context, page = _open(browser, live_server, email, DESKTOP, "/create")
    style = "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineColor, s.borderTopColor]; }"
    chosen = page.locator(".trial-option:has(input:checked)")
    page.locator("#studio-prompt").focus()
    outline, _, chosen_border = chosen.evaluate(style)
    assert outline == "none"  # chosen, not focused: its border says so, no ring
    chosen.locator("input").focus()
    page.keyboard.press("Tab")  # out of the picker, whatever comes next ...
    page.keyboard.press("Shift+Tab")  # ... and back into it with the keyboard: the chosen option has focus
    focused = page.locator(".trial-option:has(input:focus-visible)")
    assert focused.count() == 1
    focus_outline, focus_colour, _ = focused.evaluate(style)
    assert focus_outline != "none" and focus_colour != chosen_border
    context.close()


def test_a_refused_upload_is_shown_in_place_without_console_errors(browser, live_server, creator, tmp_path):
    email, _ = creator
    context, page = _open(browser, live_server, email, DESKTOP, "/create")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"this is not a picture")
    with page.expect_response(lambda r: r.url.endswith("/create/upload")) as answer:
        page.set_input_files("#studio-file", str(fake))
    assert answer.value.status == 422
    page.wait_for_selector("#upload-slot .upload-error")
    assert "JPEG, PNG or WebP" in page.inner_text("#upload-slot .upload-error")
    # Chromium itself notes every 4xx ("Failed to load resource"); htmx must not report it as an error too.
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    context.close()
