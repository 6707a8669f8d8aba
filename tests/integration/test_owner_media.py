"""Owner-only media: a user's videos, posters and uploads with Range/HEAD/ETag — and nobody else's, by any path."""

from __future__ import annotations

import pytest

from app.media.storage import get_storage
from tests.studio_factories import (
    bearer,
    jpeg,
    make_upload,
    make_user,
    make_video,
    sign_in,
)

BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
async def owned(client, settings):
    owner = await make_user()
    video = await make_video(owner.id, body=BODY)
    await sign_in(client, owner)
    return owner, video, f"/media/{video.video_key}"


async def test_the_owner_gets_the_whole_video_with_ranges_advertised(client, owned):
    _, _, url = owned
    r = await client.get(url)
    assert r.status_code == 200 and r.content == BODY
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-length"] == str(len(BODY))
    assert "private" in r.headers["cache-control"]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-1", 0, 1),
        ("bytes=0-99", 0, 99),
        ("bytes=4096-8191", 4096, 8191),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-100", 10140, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
    ids=["first-two", "first-bytes", "middle", "open-end", "suffix", "clamped"],
)
async def test_ranges_give_206_with_the_exact_slice(client, owned, header, first, last):
    _, _, url = owned
    r = await client.get(url, headers={"Range": header})
    assert r.status_code == 206
    assert r.content == BODY[first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{len(BODY)}"
    assert r.headers["content-length"] == str(last - first + 1)


async def test_a_range_past_the_end_is_416(client, owned):
    _, _, url = owned
    r = await client.get(url, headers={"Range": "bytes=10240-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(BODY)}"


async def test_head_answers_headers_only(client, owned):
    _, _, url = owned
    r = await client.head(url)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(BODY)) and r.headers["accept-ranges"] == "bytes"


async def test_if_none_match_gives_304(client, owned):
    _, _, url = owned
    first = await client.get(url)
    assert first.headers["etag"] and first.headers["last-modified"]
    r = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert r.status_code == 304 and r.content == b""


async def test_download_asks_the_browser_to_save(client, owned):
    _, _, url = owned
    r = await client.get(url + "?download=1")
    assert r.status_code == 200 and r.content == BODY
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["content-disposition"].endswith('.mp4"')


async def test_posters_and_uploads_carry_their_stored_type(client, owned):
    owner, video, _ = owned
    r = await client.get(f"/media/{video.poster_key}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    upload = await make_upload(owner.id, jpeg())
    r = await client.get(f"/media/{upload.storage_key}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"


async def test_a_bearer_token_also_reaches_the_owners_media(client, owned):
    owner, video, url = owned
    client.cookies.clear()
    assert (await client.get(url)).status_code == 404
    r = await client.get(url, headers=await bearer(owner.id))
    assert r.status_code == 200 and r.content == BODY


async def test_another_user_gets_404_for_every_kind_of_file(client, owned):
    owner, video, url = owned
    upload = await make_upload(owner.id)
    stranger = await make_user()
    await sign_in(client, stranger)
    for path in (url, f"/media/{video.poster_key}", f"/media/{upload.storage_key}", url + "?download=1"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert BODY[:64] not in r.content
        assert (await client.get(path, headers={"Range": "bytes=0-9"})).status_code == 404
        assert (await client.head(path)).status_code == 404


async def test_signed_out_gets_404_not_a_login_redirect(client, owned):
    _, _, url = owned
    client.cookies.clear()
    r = await client.get(url, follow_redirects=False)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/media/videos/../../secret",
        "/media/videos/%2e%2e/%2e%2e/secret",
        "/media/videos/2026/..%2f..%2fsecret",
        "/media//etc/passwd",
        "/media/%2fetc%2fpasswd",
        "/media/secret",
        "/media/videos/2026/11/guessed0000000000000000000000000.mp4",
        "/media/references/x.png",
        "/media/unknown/x.mp4",
        "/media/uploads/%2e%2e/%2e%2e/secret",
    ],
)
async def test_traversal_unknown_prefixes_and_guessed_keys_are_404(client, owned, path):
    (get_storage().root / "secret").write_text("private data")
    r = await client.get(path)
    assert r.status_code == 404
    assert b"private data" not in r.content


async def test_public_media_is_still_public_and_separate(client, owned):
    get_storage().save_bytes("public/showcase/a.mp4", BODY)
    client.cookies.clear()
    r = await client.get("/media/public/showcase/a.mp4", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == BODY[:10]
    assert "public" in r.headers["cache-control"]
