"""The app with STORAGE_BACKEND=s3 against a real S3 server: everything stored lands in the bucket, /media checks
the owner then redirects to the bucket, deleting a video deletes its objects, a failed upload to storage is
retried on its own, and the storage commands."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.config import get_settings
from app.media.render import probe
from app.media.storage import LocalStorage, get_storage
from app.tables import Videos
from app.videos import service as videos_service
from tests.jobs_support import FAST_JOBS, api_user, exif_rotated_jpeg, unique_prompt, wait_for, wait_for_final
from tests.s3_server import s3_client

PREFIX = "app"


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
        "S3_KEY_PREFIX": PREFIX,
    }


@pytest.fixture
def settings(settings, s3_server, s3_bucket, openai_emulator, monkeypatch):
    """The usual test settings, with media in a fresh bucket and fast jobs against the OpenAI emulator."""
    for name, value in {**s3_env(s3_server, s3_bucket), **FAST_JOBS, "OPENAI_BASE_URL": openai_emulator}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


def bucket_keys(settings) -> list[str]:
    listing = s3_client(settings.s3_endpoint_url).list_objects_v2(Bucket=settings.s3_bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def files_under(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] != "_emulators"
    )


async def test_uploads_and_videos_live_in_the_bucket_and_media_redirects_there(client, settings, tmp_path):
    user, headers = await api_user(credits=500)
    _, stranger = await api_user()
    photo = exif_rotated_jpeg()
    uploaded = await client.post(
        "/api/v1/upload/image", files={"file": ("p.jpg", photo, "image/jpeg")}, headers=headers
    )
    assert uploaded.status_code == 201, uploaded.text
    upload = uploaded.json()

    body = {
        "prompt": unique_prompt(),
        "model": "sora-2",
        "duration": 4,
        "resolution": "1280x720",
        "reference_image_id": upload["id"],
    }
    response = await client.post("/api/v1/videos/generate", json=body, headers=headers)
    assert response.status_code == 202, response.text
    video = await wait_for_final(response.json()["id"])
    assert video.status == "completed", video.error_message

    upload_key = upload["url"].removeprefix("/media/")
    assert bucket_keys(settings) == sorted(f"{PREFIX}/{k}" for k in (upload_key, video.video_key, video.poster_key))
    assert files_under(Path(settings.media_root)) == []  # no media on this machine's disk, no work files left

    # The owner is sent to the bucket; the video plays from there with Range.
    answer = await client.get(video.video_url, headers=headers, follow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(f"{settings.s3_endpoint_url}/{settings.s3_bucket}/{PREFIX}/videos/")
    assert "private" in answer.headers["cache-control"]
    whole = httpx.get(location)
    assert whole.headers["content-type"] == "video/mp4"
    part = httpx.get(location, headers={"Range": "bytes=0-1023"})
    assert (part.status_code, part.content) == (206, whole.content[:1024])
    (tmp_path / "v.mp4").write_bytes(whole.content)
    clip = probe(tmp_path / "v.mp4")
    assert (clip["codec"], clip["width"], clip["height"]) == ("h264", 1280, 720)

    head = await client.head(video.video_url, headers=headers, follow_redirects=False)
    assert head.status_code == 302
    assert httpx.head(head.headers["location"]).headers["content-length"] == str(len(whole.content))

    saved = await client.get(f"{video.video_url}?download=1", headers=headers, follow_redirects=False)
    assert httpx.get(saved.headers["location"]).headers["content-disposition"].startswith("attachment;")

    poster = await client.get(video.poster_url, headers=headers, follow_redirects=False)
    assert httpx.get(poster.headers["location"]).content[:4] == b"RIFF"  # a WebP from the bucket
    photo_answer = await client.get(upload["url"], headers=headers, follow_redirects=False)
    assert httpx.get(photo_answer.headers["location"]).headers["content-type"] == "image/jpeg"

    for url in (video.video_url, video.poster_url, upload["url"]):
        assert (await client.get(url, headers=stranger, follow_redirects=False)).status_code == 404
        assert (await client.get(url, follow_redirects=False)).status_code == 404

    # Deleting the video deletes its objects (the photo stays: it is the user's upload).
    await videos_service.delete_video(user.id, video.id)
    assert bucket_keys(settings) == [f"{PREFIX}/{upload_key}"]
    assert httpx.get(location).status_code == 404


async def test_public_media_redirects_to_long_lived_or_public_urls(client, settings, monkeypatch):
    get_storage().save_bytes("public/showcase/demo.mp4", b"\x00" * 2048)
    answer = await client.get("/media/public/showcase/demo.mp4", follow_redirects=False)
    assert answer.status_code == 302
    assert "public" in answer.headers["cache-control"]
    assert "X-Amz-Expires=172800" in answer.headers["location"]
    assert httpx.get(answer.headers["location"], headers={"Range": "bytes=-16"}).content == b"\x00" * 16
    head = await client.head("/media/public/showcase/demo.mp4", follow_redirects=False)
    assert httpx.head(head.headers["location"]).status_code == 200
    assert (await client.get("/media/public/../secret", follow_redirects=False)).status_code == 404
    # Pages let the browser load images and videos from the bucket the media redirects to.
    csp = (await client.get("/", follow_redirects=False)).headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert settings.s3_endpoint_url in directives["media-src"]
    assert settings.s3_endpoint_url in directives["img-src"]

    monkeypatch.setenv("S3_PUBLIC_BASE_URL", "https://cdn.example.com/media")
    get_settings.cache_clear()
    answer = await client.get("/media/public/showcase/demo.mp4", follow_redirects=False)
    assert answer.headers["location"] == f"https://cdn.example.com/media/{PREFIX}/public/showcase/demo.mp4"


async def test_readiness_includes_the_bucket(client, settings, monkeypatch):
    ready = await client.get("/readyz", follow_redirects=False)
    assert ready.status_code == 200
    assert ready.json()["checks"]["storage"] == "ok"

    monkeypatch.setenv("S3_BUCKET", "adsvideo-bucket-nobody-made")
    get_settings.cache_clear()
    down = await client.get("/readyz", follow_redirects=False)
    assert down.status_code == 503
    assert down.json()["checks"]["storage"] == "error: StorageError"


async def test_a_failed_upload_to_storage_is_retried_without_downloading_again(client, settings, monkeypatch, caplog):
    # The bucket does not exist yet when the first upload is tried; it appears during the backoff.
    late_bucket = f"{settings.s3_bucket}-late"
    monkeypatch.setenv("S3_BUCKET", late_bucket)
    monkeypatch.setenv("JOB_RETRY_BACKOFF_SECONDS", "2")
    get_settings.cache_clear()
    user, headers = await api_user(credits=500)
    caplog.set_level(logging.INFO, logger="adsvideo.generation")

    body = {"prompt": unique_prompt(), "model": "sora-2", "duration": 4, "resolution": "1280x720"}
    response = await client.post("/api/v1/videos/generate", json=body, headers=headers)
    video_id = response.json()["id"]

    async def one_retry_spent() -> bool:
        row = await Videos.select(Videos.attempts).where(Videos.id == video_id).first()
        return row["attempts"] == 1

    await wait_for(one_retry_spent, what="the failed upload")
    await asyncio.to_thread(s3_client(settings.s3_endpoint_url).create_bucket, Bucket=late_bucket)
    video = await wait_for_final(video_id)
    assert video.status == "completed", video.error_message
    assert video.attempts == 1
    retried = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retried) == 1 and "upload of the video to storage failed" in retried[0]
    assert get_storage().stat(video.video_key).size > 0


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "ADSVIDEO_ENV_FILE": "", **env}
    return subprocess.run(
        [sys.executable, "-m", "app", "storage", *args], env=full, capture_output=True, text=True, timeout=120
    )


def test_storage_check_says_what_is_wrong(s3_server, s3_bucket, tmp_path):
    ok = _cli({**s3_env(s3_server, s3_bucket), "MEDIA_ROOT": str(tmp_path)}, "check")
    assert ok.returncode == 0, ok.stderr
    assert "Storage OK" in ok.stdout
    missing = _cli({**s3_env(s3_server, "adsvideo-missing-bucket"), "MEDIA_ROOT": str(tmp_path)}, "check")
    assert missing.returncode == 1
    assert "'adsvideo-missing-bucket' does not exist" in missing.stderr and "S3_BUCKET" in missing.stderr


def test_copy_local_to_s3_is_idempotent_and_resumable(s3_server, s3_bucket, tmp_path):
    media = tmp_path / "media"
    local = LocalStorage(media)
    files = {
        "public/showcase/a.mp4": os.urandom(300_000),
        "public/trial/b.webp": b"RIFF-b",
        "uploads/2026/11/c.jpg": b"\xff\xd8c",
        "videos/2026/11/d.mp4": os.urandom(9 * 1024 * 1024),
    }
    for key, data in files.items():
        local.save_bytes(key, data)
    (media / "_emulators").mkdir()
    (media / "_emulators" / "x.mp4").write_bytes(b"emulator's own")  # not ours: never copied
    env = {**s3_env(s3_server, s3_bucket), "STORAGE_BACKEND": "local", "MEDIA_ROOT": str(media)}

    first = _cli(env, "copy-local-to-s3")
    assert first.returncode == 0, first.stderr
    assert "Copied 4 file(s)" in first.stdout
    client = s3_client(s3_server)
    assert sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"]) == sorted(
        f"{PREFIX}/{k}" for k in files
    )
    for key, data in files.items():
        assert client.get_object(Bucket=s3_bucket, Key=f"{PREFIX}/{key}")["Body"].read() == data

    again = _cli(env, "copy-local-to-s3")
    assert "Copied 0 file(s)" in again.stdout and "4 were already there" in again.stdout

    # An interrupted run leaves some files out; the next run copies just those.
    client.delete_object(Bucket=s3_bucket, Key=f"{PREFIX}/videos/2026/11/d.mp4")
    resumed = _cli(env, "copy-local-to-s3")
    assert "Copied 1 file(s)" in resumed.stdout and "3 were already there" in resumed.stdout
    assert client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/videos/2026/11/d.mp4")["ContentLength"] == len(
        files["videos/2026/11/d.mp4"]
    )


def test_copy_refuses_without_a_bucket(tmp_path):
    (tmp_path / "media").mkdir()
    result = _cli({"MEDIA_ROOT": str(tmp_path / "media")}, "copy-local-to-s3")
    assert result.returncode != 0
    assert "S3_BUCKET" in result.stderr
