"""The S3 storage backend through boto3 against a real S3 HTTP server (moto's server mode)."""

from __future__ import annotations

import hashlib
import os
import socket
import tracemalloc

import httpx
import pytest

from app.config import ConfigError, Settings
from app.media.backend import InvalidKey, StorageError
from app.media.s3 import S3Storage
from tests.s3_server import ANY_KEYS, s3_client

KEYS = {"access_key_id": ANY_KEYS["aws_access_key_id"], "secret_access_key": ANY_KEYS["aws_secret_access_key"]}
MiB = 1024 * 1024


def storage(endpoint: str, bucket: str, **options) -> S3Storage:
    return S3Storage(bucket=bucket, endpoint_url=endpoint, **{**KEYS, **options})


def write_random(path, mebibytes: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(mebibytes):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def test_put_then_read_back_with_its_content_type(s3_server, s3_bucket):
    store = storage(s3_server, s3_bucket)
    store.save_bytes("uploads/2026/12/a.webp", b"RIFF....WEBP")
    store.save_bytes("posters/2026/12/p.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")

    stat = store.stat("uploads/2026/12/a.webp")
    assert (stat.size, stat.content_type) == (12, "image/webp")
    assert store.read_bytes("uploads/2026/12/a.webp") == b"RIFF....WEBP"
    assert store.exists("posters/2026/12/p.jpg")
    assert store.stat("uploads/2026/12/none.webp") is None
    with pytest.raises(FileNotFoundError):
        store.read_bytes("uploads/2026/12/none.webp")


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(s3_server, s3_bucket, tmp_path):
    store = storage(s3_server, s3_bucket, part_size=5 * MiB)
    source, back = tmp_path / "big.mp4", tmp_path / "back.mp4"
    digest = write_random(source, 12)

    store.save_file("videos/2026/12/big.mp4", source)
    stat = store.stat("videos/2026/12/big.mp4")
    assert stat.size == 12 * MiB
    assert stat.content_type == "video/mp4"
    assert stat.etag.strip('"').endswith("-3")  # a multipart upload's ETag counts its parts
    store.download_file("videos/2026/12/big.mp4", back)
    assert sha256_of(back) == digest


def test_uploading_a_large_file_never_holds_it_in_memory(s3_with_auth, tmp_path):
    # The server runs in its own process here, so only the client's allocations are counted.
    store = S3Storage(
        bucket=s3_with_auth.bucket,
        endpoint_url=s3_with_auth.endpoint,
        access_key_id=s3_with_auth.access_key_id,
        secret_access_key=s3_with_auth.secret_access_key,
    )
    source = tmp_path / "big.mp4"
    write_random(source, 48)
    tracemalloc.start()
    try:
        store.save_file("videos/2026/12/huge.mp4", source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert store.stat("videos/2026/12/huge.mp4").size == 48 * MiB
    assert peak < 16 * MiB, f"uploading 48 MiB held {peak / MiB:.1f} MiB"


def test_presigned_urls_serve_ranges_heads_and_downloads(s3_server, s3_bucket):
    store = storage(s3_server, s3_bucket)
    body = bytes(range(256)) * 64
    store.save_bytes("videos/2026/12/v.mp4", body)

    url = store.presigned_url("videos/2026/12/v.mp4")
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == body[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(body)}"
    assert part.headers["content-type"] == "video/mp4"
    assert httpx.get(url, headers={"Range": "bytes=-10"}).content == body[-10:]

    head = httpx.head(store.presigned_url("videos/2026/12/v.mp4", method="HEAD"))
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(body))

    saved = httpx.get(store.presigned_url("videos/2026/12/v.mp4", download_name="adsvideo-v.mp4"))
    assert saved.headers["content-disposition"].startswith("attachment;")
    assert "adsvideo-v.mp4" in saved.headers["content-disposition"]
    assert f"X-Amz-Expires={store.presign_seconds}" in url


def test_delete_removes_objects_and_missing_ones_are_fine(s3_server, s3_bucket):
    store = storage(s3_server, s3_bucket)
    keys = [f"videos/2026/12/{n}.mp4" for n in range(3)]
    for key in keys:
        store.save_bytes(key, b"x")
    store.delete(keys[0])
    store.delete(keys[0])  # again: nothing there, no error
    assert not store.exists(keys[0])
    store.delete_many(keys[1:] + ["videos/2026/12/never.mp4"])
    assert list(store.list("videos/")) == []


def test_a_key_prefix_keeps_apps_sharing_a_bucket_apart(s3_server, s3_bucket):
    prod = storage(s3_server, s3_bucket, key_prefix="prod/")
    staging = storage(s3_server, s3_bucket, key_prefix="staging")
    prod.save_bytes("public/trial/a.jpg", b"prod")
    staging.save_bytes("public/trial/a.jpg", b"staging")
    staging.save_bytes("uploads/2026/12/u.png", b"png")

    assert prod.read_bytes("public/trial/a.jpg") == b"prod"
    assert [o.key for o in prod.list()] == ["public/trial/a.jpg"]
    assert sorted(o.key for o in staging.list("")) == ["public/trial/a.jpg", "uploads/2026/12/u.png"]
    raw = s3_client(s3_server).list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert sorted(o["Key"] for o in raw) == [
        "prod/public/trial/a.jpg",
        "staging/public/trial/a.jpg",
        "staging/uploads/2026/12/u.png",
    ]
    assert httpx.get(prod.public_url("public/trial/a.jpg")).content == b"prod"

    cdn = storage(s3_server, s3_bucket, key_prefix="prod", public_base_url="https://media.example.com/")
    assert cdn.public_url("public/trial/a.jpg") == "https://media.example.com/prod/public/trial/a.jpg"


def test_keys_the_app_could_not_have_made_never_reach_the_bucket(s3_server, s3_bucket):
    store = storage(s3_server, s3_bucket)
    for key in ("../etc/passwd", "/videos/a.mp4", "Videos/A.mp4", "videos/../a.mp4", ""):
        with pytest.raises(InvalidKey):
            store.save_bytes(key, b"x")
        assert not store.exists(key)


def test_the_check_writes_reads_presigns_and_deletes(s3_server, s3_bucket):
    store = storage(s3_server, s3_bucket, key_prefix="app")
    store.check()
    store.ping()
    assert list(store.list()) == []  # the probe is gone


def test_a_missing_bucket_is_named(s3_server):
    store = storage(s3_server, "adsvideo-no-such-bucket")
    for probe in (store.check, store.ping, lambda: store.save_bytes("videos/a.mp4", b"x")):
        with pytest.raises(StorageError, match="'adsvideo-no-such-bucket' does not exist.*S3_BUCKET"):
            probe()


def test_wrong_keys_are_named(s3_with_auth):
    def store(**keys) -> S3Storage:
        given = {"access_key_id": s3_with_auth.access_key_id, "secret_access_key": s3_with_auth.secret_access_key}
        return S3Storage(bucket=s3_with_auth.bucket, endpoint_url=s3_with_auth.endpoint, **{**given, **keys})

    store().save_bytes("uploads/2026/12/ok.jpg", b"ok")  # the right keys work
    with pytest.raises(StorageError, match="does not know this access key.*S3_ACCESS_KEY_ID"):
        store(access_key_id="AKIAWRONGWRONGWRONG1").check()
    with pytest.raises(StorageError, match="secret key is wrong.*S3_SECRET_ACCESS_KEY"):
        store(secret_access_key="not-the-secret").check()
    with pytest.raises(StorageError, match="refused access to the bucket.*S3_ACCESS_KEY_ID"):
        store(secret_access_key="not-the-secret").ping()


def test_an_unreachable_service_is_named_and_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = sock.getsockname()[1]
        store = S3Storage(bucket="adsvideo-x", endpoint_url=f"http://127.0.0.1:{port}", **KEYS)
        with pytest.raises(StorageError, match=f"Cannot reach .*127.0.0.1:{port}.*S3_ENDPOINT_URL") as caught:
            store.ping()
    assert caught.value.transient


def test_s3_without_a_bucket_is_a_configuration_error():
    settings = Settings(_env_file=None, storage_backend="s3")
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        S3Storage.from_settings(settings)


def test_a_managed_upload_into_a_missing_bucket_is_named(s3_server, tmp_path):
    source = tmp_path / "v.mp4"
    source.write_bytes(b"x" * 1024)
    with pytest.raises(StorageError, match="'adsvideo-gone' does not exist"):
        storage(s3_server, "adsvideo-gone").save_file("videos/2026/12/v.mp4", source)


def test_a_presigned_url_is_reused_for_half_its_life(s3_server, s3_bucket):
    # One URL per file for a while: the browser's cache can then serve a poster or video it already has.
    store = storage(s3_server, s3_bucket)
    store.save_bytes("posters/2026/12/p.webp", b"RIFF")
    first = store.presigned_url("posters/2026/12/p.webp")
    assert store.presigned_url("posters/2026/12/p.webp") == first
    assert store.presigned_url("posters/2026/12/p.webp", method="HEAD") != first
    assert store.presigned_url("posters/2026/12/p.webp", download_name="p.webp") != first
    assert store.presigned_url("posters/2026/12/q.webp") != first
