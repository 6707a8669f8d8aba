"""Veo generations end to end: the videos API, the embedded worker, the real `google-genai` SDK against the Veo
emulator on its own port, real storage, and the stored MP4 read back with PyAV."""

from __future__ import annotations

import pytest

from app.media import storage
from app.media.render import probe
from app.providers.veo import MODERATION_MESSAGE
from app.tables import Users
from tests.jobs_support import (
    FAST_JOBS,
    STEPS,
    api_user,
    distinct_steps,
    ledger_of,
    steps_of,
    unique_prompt,
    wait_for_final,
)


@pytest.fixture
def veo_jobs(veo_emulator, monkeypatch, request):
    """The API client with the embedded worker, whose Veo provider talks to the standalone emulator."""
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VEO_BASE_URL", veo_emulator)
    return request.getfixturevalue("client")


async def generate(client, headers, prompt: str, **fields):
    body = {"prompt": prompt, "model": "veo-3.1-fast", "duration": 4, "resolution": "720x1280", **fields}
    return await client.post("/api/v1/videos/generate", json=body, headers=headers)


async def credits_of(user_id: int) -> int:
    return (await Users.select(Users.credits).where(Users.id == user_id).first())["credits"]


async def test_a_portrait_veo_video_with_sound_after_a_rate_limit(veo_jobs) -> None:
    user, headers = await api_user(credits=500)
    response = await generate(veo_jobs, headers, unique_prompt("A perfume bottle in the rain [fault:429]"), audio=True)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["credits_charged"] == 60 and body["audio"] is True and body["provider"] == "google"
    video = await wait_for_final(body["id"])
    assert video.status == "completed", video.error_message
    clip = probe(storage.get_storage().path(video.video_key))
    assert (clip["codec"], clip["width"], clip["height"], clip["seconds"], clip["audio"]) == (
        "h264",
        720,
        1280,
        4.0,
        "aac",
    )
    assert distinct_steps(await steps_of(video.id)) == STEPS  # the 429 was waited out on the way
    assert video.attempts >= 1
    assert await ledger_of(video.id) == [("generation", -60, 1)]
    assert await credits_of(user.id) == 440


async def test_a_landscape_veo_video_without_sound(veo_jobs) -> None:
    _, headers = await api_user(credits=500)
    response = await generate(veo_jobs, headers, unique_prompt("A watch on marble"), resolution="1280x720")
    video = await wait_for_final(response.json()["id"])
    assert video.status == "completed", video.error_message
    clip = probe(storage.get_storage().path(video.video_key))
    assert (clip["width"], clip["height"], clip["audio"]) == (1280, 720, None)


async def test_a_veo_safety_failure_is_refunded_with_our_message(veo_jobs) -> None:
    user, headers = await api_user(credits=100)
    response = await generate(veo_jobs, headers, unique_prompt("A lipstick ad [fault:safety]"))
    video = await wait_for_final(response.json()["id"])
    assert video.status == "failed" and video.error_message.startswith(MODERATION_MESSAGE)
    assert await ledger_of(video.id) == [("generation", -60, 1), ("refund", 60, 1)]
    assert await credits_of(user.id) == 100


async def test_sound_on_a_silent_model_is_refused_before_any_charge(veo_jobs) -> None:
    user, headers = await api_user(credits=500)
    response = await veo_jobs.post(
        "/api/v1/videos/generate",
        headers=headers,
        json={"prompt": unique_prompt(), "model": "sora-2", "duration": 4, "resolution": "1280x720", "audio": True},
    )
    assert (response.status_code, response.json()["code"]) == (422, "audio_unavailable")
    assert await credits_of(user.id) == 500
