"""Uploading reference images: what is accepted, every refusal in words, and that a refusal stores nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.media.storage import get_storage
from app.tables import Uploads
from tests.studio_factories import (
    bearer,
    csrf,
    gif,
    gps_exif,
    huge_png,
    jpeg,
    make_user,
    png,
    sign_in,
    svg,
    webp,
)

IMAGE = "/api/v1/upload/image"
VALIDATE = "/api/v1/upload/validate"


def files(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> dict:
    return {"file": (name, data, content_type)}


def stored_files() -> list:
    root = get_storage().root / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
async def auth(settings):
    user = await make_user()
    return user, await bearer(user.id)


async def test_a_jpeg_is_stored_under_a_random_key_and_described(client, auth):
    user, headers = auth
    r = await client.post(IMAGE, files=files(jpeg(640, 360)), headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["width"] == 640 and body["height"] == 360 and body["warning"] is None
    assert body["url"].startswith("/media/uploads/") and body["url"].endswith(".jpg")
    assert "photo" not in body["url"]  # the client's file name never becomes the key
    row = await Uploads.objects().where(Uploads.id == body["id"]).first()
    assert row.user == user.id and row.content_type == "image/jpeg" and len(row.sha256) == 64
    assert row.bytes == get_storage().stat(row.storage_key).size


@pytest.mark.parametrize(("data", "fmt", "ext"), [(png(), "image/png", ".png"), (webp(), "image/webp", ".webp")])
async def test_png_and_webp_keep_their_format(client, auth, data, fmt, ext):
    _, headers = auth
    r = await client.post(IMAGE, files=files(data, "x.bin", "application/octet-stream"), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == fmt and r.json()["url"].endswith(ext)


async def test_gps_and_camera_metadata_are_stripped(client, auth):
    _, headers = auth
    original = jpeg(exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)  # the test file really has GPS
    r = await client.post(IMAGE, files=files(original), headers=headers)
    assert r.status_code == 201, r.text
    row = await Uploads.objects().where(Uploads.id == r.json()["id"]).first()
    saved = get_storage().read_bytes(row.storage_key)
    assert b"Secret Phone" not in saved
    exif = Image.open(io.BytesIO(saved)).getexif()
    assert 0x8825 not in exif and 0x0110 not in exif


REFUSALS = [
    ("text named .png", b"hello, I am not a picture\n" * 20, "notes.png", "image/png", 422, "not a JPEG, PNG or WebP"),
    ("truncated JPEG", jpeg(800, 600)[:1500], "cut.jpg", "image/jpeg", 422, "damaged"),
    ("20000x20000 PNG", huge_png(), "huge.png", "image/png", 422, "megapixels"),
    ("GIF", gif(), "anim.gif", "image/gif", 422, "not a JPEG, PNG or WebP"),
    ("SVG", svg(), "logo.svg", "image/svg+xml", 422, "not a JPEG, PNG or WebP"),
    ("empty", b"", "empty.jpg", "image/jpeg", 422, "empty"),
]


@pytest.mark.parametrize(("case", "data", "name", "ctype", "status", "words"), REFUSALS, ids=[c[0] for c in REFUSALS])
async def test_each_refusal_says_why_and_stores_nothing(client, auth, case, data, name, ctype, status, words):
    _, headers = auth
    for url in (IMAGE, VALIDATE):
        r = await client.post(url, files=files(data, name, ctype), headers=headers)
        assert r.status_code == status, (url, r.text)
        assert words in r.json()["detail"], r.json()
        assert r.json()["status_code"] == status
    assert await Uploads.count() == 0
    assert stored_files() == []


async def test_a_60_mb_file_is_refused_by_its_size(client, auth):
    _, headers = auth
    big = b"\xff\xd8\xff" + b"\0" * (60 * 1024 * 1024)
    r = await client.post(IMAGE, files=files(big, "big.jpg"), headers=headers)
    assert r.status_code == 413
    assert "10 MB" in r.json()["detail"]
    assert await Uploads.count() == 0 and stored_files() == []


async def test_a_file_just_over_the_limit_is_refused_after_reading_the_form(client, auth, monkeypatch, settings):
    monkeypatch.setattr(settings, "max_upload_mb", 1)
    _, headers = auth
    r = await client.post(
        IMAGE, files=files(jpeg(3000, 3000, colour=(1, 2, 3)) + b"\0" * (1024 * 1024)), headers=headers
    )
    assert r.status_code == 413 and "1 MB" in r.json()["detail"]
    assert await Uploads.count() == 0


async def test_missing_file_field_is_a_clear_422(client, auth):
    _, headers = auth
    r = await client.post(IMAGE, data={"other": "x"}, files={"nope": ("a.txt", b"x", "text/plain")}, headers=headers)
    assert r.status_code == 422 and "Choose an image" in r.json()["detail"]


async def test_upload_needs_a_token_but_validate_does_not_store(client, settings):
    r = await client.post(IMAGE, files=files(jpeg()))
    assert r.status_code == 401
    r = await client.post(VALIDATE, files=files(jpeg(1000, 1000)), data={"size": "1280x720"})
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is True and body["id"] is None and body["url"] is None
    assert (body["width"], body["height"]) == (1000, 1000)
    assert "cropped" in body["warning"]
    assert await Uploads.count() == 0 and stored_files() == []


@pytest.mark.parametrize(
    ("width", "height", "size", "warned"),
    [
        (1280, 720, "1280x720", False),
        (1200, 700, "1280x720", False),
        (720, 1280, "1280x720", True),
        (1000, 1000, "720x1280", True),
        (720, 1280, "720x1280", False),
    ],
)
async def test_crop_warning_when_the_shape_is_far_from_the_output(client, auth, width, height, size, warned):
    _, headers = auth
    r = await client.post(IMAGE, files=files(jpeg(width, height)), data={"size": size}, headers=headers)
    assert r.status_code == 201
    warning = r.json()["warning"]
    assert bool(warning) is warned
    if warned:
        assert "cropped" in warning and size.replace("x", "×") in warning


async def test_the_same_picture_twice_is_one_upload(client, auth):
    _, headers = auth
    data = jpeg(300, 300)
    first = (await client.post(IMAGE, files=files(data), headers=headers)).json()
    second = (await client.post(IMAGE, files=files(data), headers=headers)).json()
    assert first["id"] == second["id"] and await Uploads.count() == 1


# --- the studio's htmx upload -----------------------------------------------------------------------

HX = {"HX-Request": "true"}


async def test_studio_upload_answers_the_preview(client, settings):
    user = await make_user()
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    r = await client.post("/create/upload", files=files(jpeg(720, 1280)), data={"size": "1280x720"}, headers=headers)
    assert r.status_code == 200, r.text
    row = await Uploads.objects().first()
    assert f'name="reference_upload_id" value="{row.id}"' in r.text
    assert f'src="/media/{row.storage_key}"' in r.text
    assert "will be cropped" in r.text


async def test_studio_upload_shows_the_refusal_in_place(client, settings):
    user = await make_user()
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    r = await client.post("/create/upload", files=files(svg(), "logo.svg", "image/svg+xml"), headers=headers)
    assert r.status_code == 422
    assert "upload-error" in r.text and "not a JPEG, PNG or WebP" in r.text
    assert "hx-retarget" not in {k.lower() for k in r.headers}  # in place, not a toast
    assert await Uploads.count() == 0


async def test_studio_upload_needs_csrf_and_a_session(client, settings):
    r = await client.post("/create/upload", files=files(jpeg()), headers=HX)
    assert r.status_code in (401, 403, 204)
    user = await make_user()
    await sign_in(client, user)
    r = await client.post("/create/upload", files=files(jpeg()), headers=HX)
    assert r.status_code == 403
    assert await Uploads.count() == 0


async def test_the_studio_warning_follows_the_chosen_size(client, settings):
    """A landscape photo is fine for 1280×720; switching to 720×1280 re-renders its warning with the new size."""
    user = await make_user(plan="basic", credits=1000)
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    r = await client.post("/create/upload", files=files(jpeg(1280, 720)), data={"size": "1280x720"}, headers=headers)
    assert r.status_code == 200 and "upload-warning" not in r.text
    upload = await Uploads.objects().first()
    form = {"model": "sora-2", "duration": "4", "reference_upload_id": str(upload.id)}
    portrait = await client.get("/create/settings", params={**form, "size": "720x1280"}, headers=HX)
    assert portrait.status_code == 200
    slot = portrait.text.split('<div id="upload-slot" hx-swap-oob="innerHTML">', 1)[1]
    assert f'value="{upload.id}"' in slot
    assert "cropped to fit the portrait 720×1280 video" in slot and "landscape 1280×720" not in slot
    landscape = await client.get("/create/settings", params={**form, "size": "1280x720"}, headers=HX)
    assert 'id="upload-slot" hx-swap-oob' in landscape.text and "upload-warning" not in landscape.text
    # a full page load with the size chosen says the same
    page = await client.get("/create", params={**form, "size": "720x1280"})
    assert "cropped to fit the portrait 720×1280 video" in page.text


async def test_a_tiny_photo_is_warned_about(client, settings):
    user = await make_user()
    await sign_in(client, user)
    headers = {**HX, **await csrf(client)}
    r = await client.post("/create/upload", files=files(jpeg(200, 150)), data={"size": "1280x720"}, headers=headers)
    assert r.status_code == 200
    assert "200×150" in r.text  # the preview says how big it is
    assert "This image is small: it will be enlarged about 6× to fill the 1280×720 video" in r.text
    fine = await client.post("/create/upload", files=files(jpeg(1024, 576)), data={"size": "1280x720"}, headers=headers)
    assert "upload-warning" not in fine.text
    api = await client.post(VALIDATE, files=files(jpeg(320, 180)), data={"size": "1280x720"})
    assert "enlarged about 4×" in api.json()["warning"]
