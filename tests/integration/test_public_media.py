"""Public media: byte ranges, HEAD, validators and 304, and no way out of the media folder."""

from __future__ import annotations

import pytest

from app.media.storage import get_storage

KEY = "public/showcase/sample.mp4"
BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def stored(settings):
    get_storage().save_bytes(KEY, BODY)
    return "/media/" + KEY


async def test_whole_file_advertises_ranges(client, stored):
    r = await client.get(stored)
    assert r.status_code == 200 and r.content == BODY
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-length"] == str(len(BODY))


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-240", 10000, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
async def test_ranges_answer_206_with_the_right_slice(client, stored, header, first, last):
    r = await client.get(stored, headers={"Range": header})
    assert r.status_code == 206
    assert r.content == BODY[first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{len(BODY)}"


async def test_unsatisfiable_range_is_416(client, stored):
    r = await client.get(stored, headers={"Range": "bytes=20000-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(BODY)}"


async def test_head_has_headers_and_no_body(client, stored):
    r = await client.head(stored)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(BODY))


async def test_etag_and_last_modified_give_304(client, stored):
    first = await client.get(stored)
    r = await client.get(stored, headers={"If-None-Match": first.headers["etag"]})
    assert r.status_code == 304 and r.content == b""
    r = await client.get(stored, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert r.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/media/public/../../etc/passwd",
        "/media/public/%2e%2e/%2e%2e/etc/passwd",
        "/media/public//etc/passwd",
        "/media/public/showcase/..%2f..%2fsecret",
        "/media/public/showcase/nope.mp4",
    ],
)
async def test_traversal_and_unknown_keys_are_404(client, stored, path):
    (get_storage().root / "secret").write_text("private")
    r = await client.get(path)
    assert r.status_code == 404
    assert b"private" not in r.content


async def test_a_large_file_arrives_whole_and_in_ranges(client, settings):
    """Bodies past the read-at-once size are streamed: every byte arrives, in order, across chunk edges."""
    body = bytes(range(251)) * (6 * 1024 * 1024 // 251 + 7)  # just over 6 MiB, not a multiple of any chunk
    get_storage().save_bytes("public/showcase/large.mp4", body)
    whole = await client.get("/media/public/showcase/large.mp4")
    assert whole.status_code == 200 and whole.content == body
    first, last = 1024 * 1024 - 3, len(body) - 5
    part = await client.get("/media/public/showcase/large.mp4", headers={"Range": f"bytes={first}-{last}"})
    assert part.status_code == 206 and part.content == body[first : last + 1]
    assert part.headers["content-length"] == str(last - first + 1)
