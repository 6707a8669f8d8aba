"""GET /metrics after real requests and a real job: every counter moved by exactly what happened.

The app behind the test client with its embedded worker, the real `openai` SDK against the emulator;
the exposition is read with the Prometheus client's own text parser.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.jobs_support import FAST_JOBS, api_user, unique_prompt, wait_for_final
from tests.ops_support import samples, total, value


@pytest.fixture
def fast_jobs(openai_emulator, monkeypatch):
    for name, setting in FAST_JOBS.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)


async def scrape(client) -> dict:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def scrape_after_job(client, before: dict) -> dict:
    """A scrape once the worker has counted the job (it does so just after the actor returns, which can be
    a moment after the video is marked finished)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        after = await scrape(client)
        if total(after, "adsvideo_jobs_total", actor="generate_video") > total(
            before, "adsvideo_jobs_total", actor="generate_video"
        ):
            return after
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the job was never counted")
        await asyncio.sleep(0.05)


async def test_requests_are_counted_by_route_template_method_and_status(client):
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/api/v1/videos/12345")).status_code == 401
    assert (await client.get("/no/such/page")).status_code == 404
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("adsvideo_http_requests_total", method="GET", route="/healthz", status="200") == 3
    # The template, not the path: one series however many videos there are.
    assert moved("adsvideo_http_requests_total", method="GET", route="/api/v1/videos/{video_id}", status="401") == 1
    assert moved("adsvideo_http_requests_total", method="GET", route="unmatched", status="404") == 1
    # The scrape before this one counted itself.
    assert moved("adsvideo_http_requests_total", method="GET", route="/metrics", status="200") == 1
    assert moved("adsvideo_http_request_duration_seconds_count", method="GET", route="/healthz") == 3
    assert not any("12345" in str(labels) for (_, labels) in after)


async def test_a_generation_moves_job_provider_credit_and_generation_counters_once(fast_jobs, client):
    _, headers = await api_user(credits=500)
    before = await scrape(client)
    body = {"prompt": unique_prompt(), "model": "sora-2", "duration": 4, "resolution": "1280x720"}
    created = await client.post("/api/v1/videos/generate", json=body, headers=headers)
    assert created.status_code == 202, created.text
    video = await wait_for_final(created.json()["id"])
    assert video.status == "completed", video.error_message
    after = await scrape_after_job(client, before)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("adsvideo_jobs_total", actor="generate_video", outcome="succeeded") == 1
    assert moved("adsvideo_jobs_total", actor="generate_video", outcome="failed") == 0
    assert moved("adsvideo_job_duration_seconds_count", actor="generate_video", outcome="succeeded") == 1
    assert moved("adsvideo_generations_total", provider="openai", model="sora-2", status="completed") == 1
    assert moved("adsvideo_generation_duration_seconds_count", provider="openai", model="sora-2") == 1
    assert moved("adsvideo_credits_charged_total") == video.credits_charged == 100
    assert moved("adsvideo_credits_refunded_total") == 0
    submit = {"provider": "openai", "model": "sora-2", "operation": "submit"}
    assert moved("adsvideo_provider_calls_total", outcome="ok", **submit) == 1
    assert moved("adsvideo_provider_call_duration_seconds_count", **submit) == 1
    assert moved("adsvideo_provider_calls_total", operation="download", outcome="ok") == 2  # video and poster
    assert moved("adsvideo_provider_calls_total", operation="status") >= 1
    assert moved("adsvideo_http_requests_total", method="POST", route="/api/v1/videos/generate", status="202") == 1
    # Measured at scrape time: no video is waiting any more (the queue may hold the notification email).
    assert value(after, "adsvideo_videos_waiting") == 0
    assert ("adsvideo_queue_messages", frozenset({("queue", "default")})) in after


async def test_a_failed_generation_counts_the_failure_and_the_refund(fast_jobs, client):
    _, headers = await api_user(credits=500)
    before = await scrape(client)
    # The emulator's moderation marker: the provider refuses the job, the credits come back.
    body = {
        "prompt": unique_prompt("A boxing match [fault:moderation]"),
        "model": "sora-2",
        "duration": 4,
        "resolution": "1280x720",
    }
    created = await client.post("/api/v1/videos/generate", json=body, headers=headers)
    assert created.status_code == 202, created.text
    video = await wait_for_final(created.json()["id"])
    assert video.status == "failed"
    after = await scrape_after_job(client, before)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("adsvideo_generations_total", model="sora-2", status="failed") == 1
    assert moved("adsvideo_credits_charged_total") == 100
    assert moved("adsvideo_credits_refunded_total") == 100
    assert moved("adsvideo_jobs_total", actor="generate_video", outcome="succeeded") == 1  # the job itself ran fine


@pytest.fixture
def metrics_token(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "scrape-token-0123456789")


async def test_with_a_token_only_the_bearer_of_it_reads_the_metrics(metrics_token, client):
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "METRICS_TOKEN" in wrong.text
    right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert right.status_code == 200 and "adsvideo_http_requests_total" in right.text


async def test_the_request_id_is_taken_from_the_header_or_made_and_always_echoed(client):
    given = await client.get("/healthz", headers={"X-Request-ID": "req-abc.123"})
    assert given.headers["x-request-id"] == "req-abc.123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-ID": 'x" injected=1 ' + "y" * 100})
    assert hostile.headers["x-request-id"] != made.headers["x-request-id"]
    assert len(hostile.headers["x-request-id"]) == 32
    missing = await client.get("/no/such/page", headers={"X-Request-ID": "req-404"})
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "req-404"


async def test_in_production_metrics_stay_off_until_a_token_is_set(client, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("APP_ENV", "production")
    get_settings.cache_clear()
    assert (await client.get("/metrics")).status_code == 404
    monkeypatch.setenv("METRICS_TOKEN", "prod-scrape-token-0123456789")
    get_settings.cache_clear()
    assert (await client.get("/metrics")).status_code == 401
    ok = await client.get("/metrics", headers={"Authorization": "Bearer prod-scrape-token-0123456789"})
    assert ok.status_code == 200


async def test_a_storage_failure_is_counted_and_a_missing_file_is_not(client, settings, tmp_path, monkeypatch):
    from app.config import get_settings
    from app.media import storage

    before = await scrape(client)
    with pytest.raises(FileNotFoundError):
        storage.get_storage().read_bytes("uploads/never-stored.jpg")  # an answer, not a failure
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    monkeypatch.setenv("MEDIA_ROOT", str(blocked))
    get_settings.cache_clear()
    with pytest.raises(OSError):
        storage.get_storage().save_bytes("uploads/photo.jpg", b"\xff\xd8 a jpeg")
    after = await scrape(client)
    assert total(after, "adsvideo_storage_errors_total") - total(before, "adsvideo_storage_errors_total") == 1
    assert (
        value(after, "adsvideo_storage_errors_total", operation="save_bytes")
        - value(before, "adsvideo_storage_errors_total", operation="save_bytes")
        == 1
    )
