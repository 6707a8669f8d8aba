"""The brand kit page and the video page's "Make it an ad" panel, through HTML forms and htmx requests."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.tables import BrandKits, Finishings
from tests.billing_factories import make_user
from tests.finishing_media import logo, make_clip
from tests.jobs_support import wait_for
from tests.studio_factories import csrf, make_video, sign_in

pytestmark = pytest.mark.timeout(240)
HTMX = {"HX-Request": "true"}


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=2, width=640, height=360).read_bytes()


@pytest.fixture
async def signed_in(client):
    user = await make_user(plan="basic", credits=100)
    await sign_in(client, user)
    return user, await csrf(client)


async def test_the_brand_page_saves_the_kit_and_refuses_a_logo_without_pixels(client, signed_in):
    user, token = signed_in
    page = await client.get("/account/brand")
    assert page.status_code == 200 and 'id="brand-form"' in page.text and "Source Sans Pro" in page.text
    r = await client.post(
        "/account/brand",
        headers={**token, **HTMX},
        data={
            "name": "Acme",
            "primary_colour": "#204080",
            "accent_colour": "#ffcc00",
            "font": "manrope",
            "cta_text": "Buy now",
            "cta_url": "acme.example",
        },
        files={"logo": ("logo.png", png(logo()), "image/png")},
    )
    assert r.status_code == 200 and "Brand kit saved" in r.text
    kit = await BrandKits.objects().where(BrandKits.user == user.id).first()
    assert (kit.name, kit.primary_colour, kit.font, kit.cta_text) == ("Acme", "#204080", "manrope", "Buy now")
    assert kit.logo_key

    empty = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    r = await client.post(
        "/account/brand",
        headers={**token, **HTMX},
        data={"name": "Other"},
        files={"logo": ("logo.png", png(empty), "image/png")},
    )
    assert r.status_code == 422 and "no visible pixels" in r.text
    again = await BrandKits.objects().where(BrandKits.user == user.id).first()
    assert (again.name, again.logo_key) == ("Acme", kit.logo_key), "nothing changed"


async def test_the_end_card_preview_follows_the_typed_values(client, signed_in):
    one = await client.get("/account/brand/preview.jpg", params={"cta_text": "Shop now", "primary_colour": "#204080"})
    two = await client.get(
        "/account/brand/preview.jpg", params={"cta_text": "Order today", "primary_colour": "#204080"}
    )
    assert one.status_code == two.status_code == 200 and one.headers["content-type"] == "image/jpeg"
    assert one.content != two.content
    card = Image.open(io.BytesIO(one.content)).convert("RGB")
    assert card.size == (540, 960)
    corner = card.getpixel((5, 5))
    assert abs(corner[0] - 0x20) < 12 and abs(corner[2] - 0x80) < 12
    fragment = await client.get("/account/brand/preview", params={"cta_text": "Order today"}, headers=HTMX)
    assert "Order+today" in fragment.text


async def test_the_panel_previews_finishes_and_deletes(client, signed_in, clip_bytes):
    user, token = signed_in
    video = await make_video(user.id, body=clip_bytes)
    detail = await client.get(f"/videos/{video.id}")
    assert f'hx-get="/videos/{video.id}/finish"' in detail.text
    panel = await client.get(f"/videos/{video.id}/finish", headers=HTMX)
    assert panel.status_code == 200 and "Make it an ad" in panel.text
    frame = await client.get(f"/videos/{video.id}/finish/frame.jpg", params={"hook_text": "Hello", "placements": "1:1"})
    assert frame.status_code == 200 and Image.open(io.BytesIO(frame.content)).size == (360, 360)

    too_long = await client.get(
        f"/videos/{video.id}/finish/preview",
        headers=HTMX,
        params={"hook_text": "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2, "placements": "9:16"},
    )
    assert "too long" in too_long.text

    refused = await client.post(
        f"/videos/{video.id}/finish",
        headers={**token, **HTMX},
        data={"placements": "9:16", "trim_start": "1.9", "trim_end": "5"},
    )
    assert refused.status_code == 422 and refused.headers["hx-retarget"] == f"#finish-error-{video.id}"
    assert "trim" in refused.text
    assert await Finishings.count().where(Finishings.video == video.id) == 0

    started = await client.post(
        f"/videos/{video.id}/finish",
        headers={**token, **HTMX},
        data={
            "placements": ["1:1", "16:9"],
            "hook_text": "Hi",
            "captions": "One\nTwo",
            "end_card": "on",
            "cta_text": "Go",
            "end_seconds": "1",
        },
    )
    assert started.status_code == 200 and "finish-set-" in started.text and "sse-connect" in started.text
    row = await Finishings.objects().where(Finishings.video == video.id).first()
    await wait_for(
        lambda: Finishings.exists().where((Finishings.id == row.id) & (Finishings.status == "completed")),
        timeout=180,
        what="the finishing",
    )
    panel = await client.get(f"/videos/{video.id}/finish", headers=HTMX)
    assert panel.text.count('class="rendition-player"') == 2 and 'kind="captions"' in panel.text

    gone = await client.post(f"/videos/{video.id}/finishings/{row.id}/delete", headers={**token, **HTMX})
    assert gone.status_code == 200 and gone.text == ""
    assert await Finishings.count().where(Finishings.video == video.id) == 0


async def test_someone_elses_panel_is_not_found(client, signed_in, clip_bytes):
    other = await make_user()
    video = await make_video(other.id, body=clip_bytes)
    for url in (
        f"/videos/{video.id}/finish",
        f"/videos/{video.id}/finish/frame.jpg",
        f"/videos/{video.id}/finish/card.jpg",
        f"/videos/{video.id}/finish/preview",
    ):
        assert (await client.get(url, headers=HTMX)).status_code == 404, url
