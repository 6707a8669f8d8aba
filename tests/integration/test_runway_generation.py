"""Runway Gen-4 Turbo generations end to end: the videos API, the embedded worker, the real `runwayml` SDK against
the Runway emulator on its own port, real storage, and the stored MP4 read back with PyAV."""

from __future__ import annotations

import pytest
from PIL import Image

from app.media import samples, storage
from app.media.render import probe
from app.providers.runway import MODERATION_MESSAGE
from app.tables import TrialImages, Users, Videos
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
def runway_jobs(runway_emulator, monkeypatch, request):
    """The API client with the embedded worker, whose Runway provider talks to the standalone emulator."""
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RUNWAYML_BASE_URL", runway_emulator)
    return request.getfixturevalue("client")  # built after the environment above: settings read it


async def trial_image(product: str = "sneaker") -> TrialImages:
    """A trial image as the seed makes them: a product photo in storage."""
    key = storage.new_key("public/trial", ".webp")
    storage.get_storage().save_bytes(key, samples.encode(samples.PRODUCTS[product]((1280, 720)), "WEBP"))
    row = TrialImages(title=product.title(), image_url=storage.media_url(key), storage_key=key, category="demo")
    await row.save()
    return row


async def generate(client, headers, prompt: str, **fields):
    body = {"prompt": prompt, "model": "gen4_turbo", "duration": 5, "resolution": "1280x720", **fields}
    return await client.post("/api/v1/videos/generate", json=body, headers=headers)


async def credits_of(user_id: int) -> int:
    return (await Users.select(Users.credits).where(Users.id == user_id).first())["credits"]


async def test_a_gen4_turbo_video_from_a_trial_image_is_stored_as_an_mp4(runway_jobs) -> None:
    user, headers = await api_user(credits=500)
    trial = await trial_image()
    response = await generate(
        runway_jobs, headers, unique_prompt("A sneaker turning slowly [fault:429]"), trial_image_id=trial.id
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["credits_charged"] == 60 and body["reference_image_url"] == trial.image_url

    video = await wait_for_final(body["id"])
    assert video.status == "completed", video.error_message
    assert video.video_key.startswith("videos/") and video.poster_key.startswith("posters/")
    clip = probe(storage.get_storage().path(video.video_key))
    assert (clip["codec"], clip["width"], clip["height"]) == ("h264", 1280, 720)
    assert abs(clip["seconds"] - 5) < 0.2
    with Image.open(storage.get_storage().path(video.poster_key)) as poster:
        assert poster.format == "WEBP" and poster.size == (1280, 720)
    assert distinct_steps(await steps_of(video.id)) == STEPS  # the rate limit was waited out on the way
    assert await ledger_of(video.id) == [("generation", -60, 1)]
    assert await credits_of(user.id) == 440


async def test_portrait_ten_seconds(runway_jobs) -> None:
    user, headers = await api_user(credits=500)
    trial = await trial_image("bottle")  # landscape: the pipeline crops it to the portrait frame
    response = await generate(
        runway_jobs,
        headers,
        unique_prompt("A bottle on a shelf"),
        trial_image_id=trial.id,
        duration=10,
        resolution="720x1280",
    )
    assert response.status_code == 202, response.text
    video = await wait_for_final(response.json()["id"])
    assert video.status == "completed", video.error_message
    clip = probe(storage.get_storage().path(video.video_key))
    assert (clip["width"], clip["height"], round(clip["seconds"])) == (720, 1280, 10)
    assert await ledger_of(video.id) == [("generation", -120, 1)]


async def test_without_a_product_photo_it_is_refused_before_any_charge(runway_jobs) -> None:
    user, headers = await api_user(credits=100)
    response = await generate(runway_jobs, headers, unique_prompt("A mug of coffee"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "reference_image_required"
    assert "photo" in response.json()["detail"]
    assert await credits_of(user.id) == 100
    assert await Videos.count().where(Videos.user == user.id) == 0


async def test_a_runway_safety_failure_is_refunded(runway_jobs) -> None:
    user, headers = await api_user(credits=100)
    trial = await trial_image("lipstick")
    response = await generate(
        runway_jobs, headers, unique_prompt("A lipstick ad [fault:moderation]"), trial_image_id=trial.id
    )
    video = await wait_for_final(response.json()["id"])
    assert video.status == "failed" and video.error_message.startswith(MODERATION_MESSAGE)
    assert await ledger_of(video.id) == [("generation", -60, 1), ("refund", 60, 1)]
    assert await credits_of(user.id) == 100
