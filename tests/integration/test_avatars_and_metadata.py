"""Avatars are our own copies (from Google at sign-in, or uploaded), never a hot-linked address; uploads
lose every metadata segment, JPEG comments included."""

from __future__ import annotations

import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.accounts.tokens import issue_pair
from app.media.storage import get_storage
from app.tables import Users
from tests.billing_factories import make_user, make_video
from tests.google_emulator import google, sign_in
from tests.studio_factories import jpeg

PAYLOAD = b"<script>alert(document.cookie)</script>"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored(url: str) -> bytes:
    return get_storage().read_bytes(url.removeprefix("/media/"))


async def test_sign_in_copies_the_google_picture_into_our_storage(client):
    await sign_in(client, "pic@example.com")
    user = await Users.objects().where(Users.email == "pic@example.com").first()
    assert user.avatar_url.startswith("/media/public/avatars/u")
    picture = Image.open(io.BytesIO(stored(user.avatar_url)))
    assert (picture.format, picture.size) == ("WEBP", (256, 256))
    served = await client.get(user.avatar_url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_an_uploaded_avatar_replaces_the_old_one_and_outside_addresses_are_refused(client):
    user = await make_user(plan="pro")
    token = (await issue_pair(user.id)).access_token
    r = await client.put("/api/v1/users/avatar", files={"file": ("me.jpg", jpeg(800, 600))}, headers=bearer(token))
    assert r.status_code == 200, r.text
    first = r.json()["avatar_url"]
    assert first.startswith("/media/public/avatars/u")
    r = await client.put("/api/v1/users/avatar", files={"file": ("me.jpg", jpeg(300, 300))}, headers=bearer(token))
    second = r.json()["avatar_url"]
    assert second != first and (await client.get(first)).status_code == 404  # the old file is gone

    r = await client.patch(
        "/api/v1/users/profile", json={"avatar_url": "https://tracker.example/p.gif"}, headers=bearer(token)
    )
    assert r.status_code == 422
    r = await client.put("/api/v1/users/avatar", files={"file": ("x.svg", b"<svg/>")}, headers=bearer(token))
    assert r.status_code == 422
    assert (await Users.objects().where(Users.id == user.id).first()).avatar_url == second

    r = await client.delete("/api/v1/users/avatar", headers=bearer(token))
    assert r.status_code == 200 and r.json()["avatar_url"] is None


async def test_the_home_page_never_shows_a_picture_from_elsewhere(client):
    user = await make_user(name="Mallory Example")
    await make_video(user.id)  # the home page's strip shows creators
    # A row from before avatars were copied: the address must not reach any visitor.
    await Users.update({Users.avatar_url: "https://tracker.example/pixel.gif"}).where(Users.id == user.id)
    recent = (await client.get("/api/v1/users/recent")).json()["users"]
    assert {"name": "Mallory", "avatar_url": None} in recent
    assert "tracker.example" not in (await client.get("/")).text


async def test_the_account_page_uploads_a_picture(client):
    user = await make_user()
    await client.set_session_data({"user_id": user.id})
    page = await client.get("/account")
    assert 'action="/account/avatar"' in page.text
    token = client.cookies.get("csrftoken")
    r = await client.post(
        "/account/avatar",
        files={"file": ("me.png", jpeg(120, 90))},
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = await Users.objects().where(Users.id == user.id).first()
    assert after.avatar_url.startswith("/media/public/avatars/u")


def _jpeg_with_comment() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (10, 120, 200)).save(out, "JPEG", comment=PAYLOAD, quality=90)
    assert PAYLOAD in out.getvalue()
    return out.getvalue()


def _png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Comment", PAYLOAD.decode())
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (10, 120, 200)).save(out, "PNG", pnginfo=info)
    assert PAYLOAD in out.getvalue()
    return out.getvalue()


async def test_uploads_lose_jpeg_comments_and_png_text(client):
    user = await make_user(plan="pro")
    token = (await issue_pair(user.id)).access_token
    for name, data in (("c.jpg", _jpeg_with_comment()), ("t.png", _png_with_text())):
        r = await client.post("/api/v1/upload/image", files={"file": (name, data)}, headers=bearer(token))
        assert r.status_code == 201, r.text
        served = await client.get(r.json()["url"], headers=bearer(token))
        body = served.content if served.status_code == 200 else stored(r.json()["url"])
        assert PAYLOAD not in body, name
        if name.endswith(".jpg"):
            assert b"\xff\xfe" not in body[: body.find(b"\xff\xda")]  # no COM segment before the scan
