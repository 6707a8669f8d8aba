"""Admin pages for showcase videos and trial images: admins only, uploads validated, nothing stored on refusal."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.media.render import render_clip
from app.media.storage import get_storage
from app.showcase import home_cache
from app.showcase.seed import seed
from app.tables import ShowcaseVideos, TrialImages, Users


def _files() -> set[str]:
    root = get_storage().root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def _sign_in(client, *, admin: bool) -> dict[str, str]:
    user = Users(email=f"{'admin' if admin else 'someone'}@example.com", name="Ada Admin", is_admin=admin)
    await user.save()
    await client.set_session_data({"user_id": user.id})
    await client.get("/")  # receives the CSRF cookie
    return {"x-csrftoken": client.cookies.get("csrftoken")}


def _jpeg(size=(320, 180), colour=(30, 90, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def _mp4() -> bytes:
    out = io.BytesIO()
    render_clip(
        out, width=160, height=96, seconds=1, caption="Test clip", image=Image.new("RGB", (160, 96), (200, 80, 20))
    )
    return out.getvalue()


ADMIN_PAGES = ["/admin/showcase", "/admin/trial-images"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_admin_pages_send_visitors_to_sign_in(client, path):
    response = await client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/auth/login?next={path}"


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_admin_pages_refuse_non_admins(client, path):
    headers = await _sign_in(client, admin=False)
    assert (await client.get(path)).status_code == 403
    create = await client.post(
        path, headers=headers, data={"title": "x"}, files={"image": ("a.png", _jpeg(), "image/png")}
    )
    assert create.status_code == 403
    assert await ShowcaseVideos.count() == 0 and await TrialImages.count() == 0


async def test_non_admins_cannot_toggle_or_delete(client, settings):
    await seed(quick=True)
    headers = await _sign_in(client, admin=False)
    video = await ShowcaseVideos.objects().first()
    assert (await client.post(f"/admin/showcase/{video.id}/toggle/is_active", headers=headers)).status_code == 403
    assert (await client.post(f"/admin/showcase/{video.id}/delete", headers=headers)).status_code == 403
    assert await ShowcaseVideos.exists().where((ShowcaseVideos.id == video.id) & (ShowcaseVideos.is_active == True))


async def test_admin_adds_a_trial_image_and_it_shows_on_the_home_page(client):
    headers = await _sign_in(client, admin=True)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 150, 90)).save(out, "JPEG", exif=exif)
    response = await client.post(
        "/admin/trial-images",
        headers=headers,
        data={"title": "Green box", "category": "Product", "is_active": "on"},
        files={"image": ("box.jpg", out.getvalue(), "image/jpeg")},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/trial-images"
    row = await TrialImages.objects().first()
    assert row.title == "Green box" and row.is_active and row.storage_key.startswith("public/trial/")
    stored = get_storage().read_bytes(row.storage_key)
    assert b"SecretCam" not in stored and Image.open(io.BytesIO(stored)).size == (300, 200)
    listing = await client.get("/admin/trial-images")
    assert "Added “Green box”." in listing.text and "Green box" in listing.text
    home = (await client.get("/")).text
    assert f'href="/create?trial_image={row.id}"' in home
    assert (await client.get(row.image_url)).status_code == 200


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"these are my notes, not a picture\n" * 20, "not a JPEG, PNG or WebP"),
        ("big.jpg", None, "the most we accept is 1 MB"),
    ],
)
async def test_bad_trial_uploads_are_refused_and_nothing_is_stored(client, monkeypatch, name, data, message):
    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    from app.config import get_settings

    get_settings.cache_clear()
    headers = await _sign_in(client, admin=True)
    if data is None:  # a real JPEG, just too large: noise does not compress
        import os

        image = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=95)
        data = out.getvalue()
        assert len(data) > 1024 * 1024
    before = _files()
    response = await client.post(
        "/admin/trial-images",
        headers=headers,
        data={"title": "Bad", "is_active": "on"},
        files={"image": (name, data, "image/png")},
    )
    assert 400 <= response.status_code < 500
    assert message in response.text
    assert 'value="Bad"' in response.text  # the form keeps what was typed
    assert await TrialImages.count() == 0
    assert _files() == before


async def test_admin_adds_a_showcase_video_with_a_poster_cut_from_the_first_frame(client):
    headers = await _sign_in(client, admin=True)
    response = await client.post(
        "/admin/showcase",
        headers=headers,
        data={
            "title": "Orange launch",
            "category": "Product",
            "description": "A test",
            "is_active": "on",
            "is_hero": "on",
        },
        files={"video": ("clip.mp4", _mp4(), "video/mp4")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    row = await ShowcaseVideos.objects().first()
    assert row.is_hero and row.is_active and not row.is_featured
    assert row.video_url.startswith("/media/public/showcase/") and row.video_url.endswith(".mp4")
    poster = await client.get(row.poster_url)
    assert poster.status_code == 200 and Image.open(io.BytesIO(poster.content)).size == (160, 96)
    assert (await client.get(row.video_url)).headers["content-type"] == "video/mp4"
    home = (await client.get("/")).text
    assert "Orange launch" in home.split('class="hero-carousel"')[1].split("</ul>")[0]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"video": ("clip.mp4", b"not a video at all" * 100, "video/mp4")}, "not a video we can read"),
        ({"video": ("still.mp4", _jpeg(), "video/mp4")}, "must be an MP4"),
        ({}, "Choose an MP4 video"),
    ],
)
async def test_bad_showcase_uploads_are_refused_and_nothing_is_stored(client, files, message):
    headers = await _sign_in(client, admin=True)
    before = _files()
    response = await client.post(
        "/admin/showcase",
        headers=headers,
        data={"title": "Nope", "category": "Tech", "is_active": "on"},
        files=files or None,
    )
    assert response.status_code == 422
    assert message in response.text
    assert await ShowcaseVideos.count() == 0
    assert _files() == before


async def test_a_bad_poster_stops_the_whole_upload(client):
    headers = await _sign_in(client, admin=True)
    before = _files()
    response = await client.post(
        "/admin/showcase",
        headers=headers,
        data={"title": "Nope", "category": "Tech"},
        files={"video": ("clip.mp4", _mp4(), "video/mp4"), "poster": ("p.png", b"GIF89a nope", "image/png")},
    )
    assert response.status_code == 422 and "not a JPEG, PNG or WebP" in response.text
    assert await ShowcaseVideos.count() == 0 and _files() == before


async def test_admin_edits_reorders_features_and_deletes(client, settings):
    await seed(quick=True)
    headers = await _sign_in(client, admin=True)
    rows = await ShowcaseVideos.objects().order_by(ShowcaseVideos.order)
    first, second = rows[0], rows[1]
    # Move the second above the first.
    await client.post(f"/admin/showcase/{second.id}/move/up", headers=headers)
    ordered = [r.id for r in await ShowcaseVideos.objects().order_by(ShowcaseVideos.order)]
    assert ordered[:2] == [second.id, first.id]
    # Edit without a new file keeps the media.
    response = await client.post(
        f"/admin/showcase/{first.id}",
        headers=headers,
        data={"title": "Run lighter, again", "category": "Product", "description": "", "order": "1", "is_active": "on"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    edited = await ShowcaseVideos.objects().get(ShowcaseVideos.id == first.id)
    assert edited.title == "Run lighter, again" and edited.video_url == first.video_url and not edited.is_hero
    # An edit with an empty title is refused in place and changes nothing.
    refused = await client.post(
        f"/admin/showcase/{first.id}", headers=headers, data={"title": " ", "category": "Product", "is_active": "on"}
    )
    assert refused.status_code == 422 and "Title is required." in refused.text
    assert (await ShowcaseVideos.objects().get(ShowcaseVideos.id == first.id)).title == "Run lighter, again"
    # Feature and unfeature.
    await client.post(f"/admin/showcase/{second.id}/toggle/is_featured", headers=headers)
    assert (await ShowcaseVideos.objects().get(ShowcaseVideos.id == second.id)).is_featured is not second.is_featured
    assert (await client.post(f"/admin/showcase/{second.id}/toggle/title", headers=headers)).status_code == 422
    # Delete removes the row and its files.
    video_key = second.video_url.removeprefix("/media/")
    await client.post(f"/admin/showcase/{second.id}/delete", headers=headers)
    assert not await ShowcaseVideos.exists().where(ShowcaseVideos.id == second.id)
    assert not get_storage().exists(video_key)
    assert second.title not in (await client.get("/")).text
    assert (await client.post("/admin/showcase/999999/delete", headers=headers)).status_code == 404


async def test_admin_hides_and_reorders_trial_images(client, settings):
    await seed(quick=True)
    headers = await _sign_in(client, admin=True)
    rows = await TrialImages.objects().order_by(TrialImages.order)
    await client.post(f"/admin/trial-images/{rows[0].id}/toggle", headers=headers)
    html = (await client.get("/")).text
    assert rows[0].title not in html and rows[1].title in html
    await client.post(f"/admin/trial-images/{rows[2].id}/move/up", headers=headers)
    ordered = [r.id for r in await TrialImages.objects().order_by(TrialImages.order)]
    assert ordered[:3] == [rows[0].id, rows[2].id, rows[1].id]
    page = await client.get(f"/admin/trial-images/{rows[1].id}/edit")
    assert page.status_code == 200 and rows[1].title in page.text


def _row(html: str, row_id: str) -> str:
    return html.split(f'id="{row_id}"', 1)[1].split("</tr>", 1)[0]


async def test_showcase_list_shows_each_rows_toggles_once_and_actions_once(client):
    headers = await _sign_in(client, admin=True)
    await seed(quick=True)
    hero = await ShowcaseVideos.objects().where(ShowcaseVideos.is_hero == True).first()
    row = _row((await client.get("/admin/showcase")).text, f"showcase-row-{hero.id}")
    flags = row.split('class="admin-flags"', 1)[1].split("</td>", 1)[0]
    assert [label for label in ("Shown", "Featured", "Hero") if f">{label}</button>" in flags] == [
        "Shown",
        "Featured",
        "Hero",
    ]
    assert 'aria-pressed="true">Hero<' in flags
    assert row.count(">Edit</a>") == 1 and row.count(">Delete</button>") == 1 and row.count('aria-label="Move up"') == 1
    # the toggle the page offers works, and the list says so
    action = flags.split('action="', 3)[3].split('"', 1)[0]
    assert action == f"/admin/showcase/{hero.id}/toggle/is_hero"
    after = await client.post(action, headers=headers)
    assert after.status_code == 200
    assert 'aria-pressed="false">Hero<' in _row(after.text, f"showcase-row-{hero.id}")


async def test_trial_image_list_shows_the_shown_toggle_and_actions_once(client):
    headers = await _sign_in(client, admin=True)
    await seed(quick=True)
    image = await TrialImages.objects().first()
    row = _row((await client.get("/admin/trial-images")).text, f"trial-row-{image.id}")
    assert 'aria-pressed="true">Shown</button>' in row
    assert (
        row.count(">Edit</a>") == 1 and row.count(">Delete</button>") == 1 and row.count('aria-label="Move down"') == 1
    )
    after = await client.post(f"/admin/trial-images/{image.id}/toggle", headers=headers)
    assert 'aria-pressed="false">Hidden</button>' in _row(after.text, f"trial-row-{image.id}")
