"""A video can be finished right after it is generated: `finish` on the generate request (checked before
any charge), the finishing waits for the video, then runs on the worker with its own live steps."""

from __future__ import annotations

import pytest

from app.tables import Finishings, Users
from app.videos import progress
from tests.jobs_support import (
    FAST_JOBS,
    api_user,
    unique_prompt,
    wait_for,
    wait_for_final,
)

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def job_env(openai_emulator, monkeypatch):
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)


@pytest.fixture
def jobs(job_env, client):
    return client


def _body(**finish) -> dict:
    return {
        "prompt": unique_prompt(),
        "model": "sora-2",
        "duration": 4,
        "resolution": "1280x720",
        "finish": {"placements": ["1:1"], **finish},
    }


async def test_generate_with_finish_makes_the_renditions_once_the_video_is_made(jobs):
    user, headers = await api_user(credits=500)
    async with progress.subscribe([progress.user_channel(user.id)]) as live:
        r = await jobs.post(
            "/api/v1/videos/generate",
            headers=headers,
            json=_body(hook_text="Fresh", captions=["Made today"], end_card={"seconds": 1}),
        )
        assert r.status_code == 202, r.text
        video_id = r.json()["id"]
        steps = []
        while not any(e.get("finished") for e in steps):
            event = await live.get(timeout=120)
            assert event is not None, steps
            assert event.get("status") != "failed", event
            if event.get("kind") == "finishing":
                steps.append(event)
    assert (await wait_for_final(video_id)).status == "completed"
    assert [e["step"] for e in steps if e["step"].startswith("rendering")][0] == "rendering 1:1"
    assert steps[-1]["status"] == "completed" and steps[-1]["progress"] == 100
    video = (await jobs.get(f"/api/v1/videos/{video_id}", headers=headers)).json()
    assert [(x["placement"], x["width"], x["height"]) for x in video["renditions"]] == [("1:1", 720, 720)]
    assert video["renditions"][0]["duration"] == pytest.approx(5.0, abs=0.05)
    assert video["credits_charged"] == 100, "only the generation is charged"
    assert (await Users.objects().where(Users.id == user.id).first()).credits == 400


async def test_a_finish_that_cannot_fit_is_refused_before_any_charge(jobs):
    user, headers = await api_user(credits=500)
    r = await jobs.post("/api/v1/videos/generate", headers=headers, json=_body(trim={"start": 3, "end": 9}))
    assert r.status_code == 422 and r.json()["code"] == "invalid_trim"
    assert (await Users.objects().where(Users.id == user.id).first()).credits == 500
    assert await Finishings.count() == 0


async def test_a_failed_generation_fails_its_waiting_finishing(jobs):
    user, headers = await api_user(credits=500)
    body = _body()
    body["prompt"] = unique_prompt("A knife commercial [fault:moderation]")
    r = await jobs.post("/api/v1/videos/generate", headers=headers, json=body)
    assert r.status_code == 202
    assert (await wait_for_final(r.json()["id"])).status == "failed"
    row = await wait_for(
        lambda: (
            Finishings.objects().where((Finishings.video == r.json()["id"]) & (Finishings.status == "failed")).first()
        ),
        what="the finishing to fail",
    )
    assert "could not be made" in row.error_message


async def test_a_batch_item_can_ask_for_finishing_and_a_bad_one_refuses_the_batch(jobs):
    user, headers = await api_user(credits=1_000)
    plain = {k: v for k, v in _body().items() if k != "finish"}
    bad = _body(hook_text="Pneumonoultramicroscopicsilicovolcanoconiosis" * 2)
    r = await jobs.post("/api/v1/videos/batch", headers=headers, json={"items": [plain, bad]})
    assert r.status_code == 422 and r.json()["code"] == "text_too_long", r.text
    assert r.json()["detail"].startswith("Item 2:")
    assert (await Users.objects().where(Users.id == user.id).first()).credits == 1_000

    r = await jobs.post("/api/v1/videos/batch", headers=headers, json={"items": [plain, _body(captions=["Hi"])]})
    assert r.status_code == 202, r.text
    ids = sorted(v["id"] for v in r.json()["videos"])
    finishing = await wait_for(
        lambda: Finishings.objects().where(Finishings.video.is_in(ids) & (Finishings.status == "completed")).first(),
        timeout=180,
        what="the finishing",
    )
    assert await Finishings.count().where(Finishings.video.is_in(ids)) == 1
    finished_video = (await jobs.get(f"/api/v1/videos/{finishing.video}", headers=headers)).json()
    assert [x["placement"] for x in finished_video["renditions"]] == ["1:1"]
