"""Variations and batches through the API: every video its own job and charge, all or nothing on credits, a batch
checked as a whole before anything is charged, and its states readable by its owner only."""

from __future__ import annotations

import pytest

from app.tables import CreditTransactions, Users, Videos
from tests.jobs_support import FAST_JOBS, api_user, ledger_of, unique_prompt, wait_for_final


@pytest.fixture
def jobs(openai_emulator, monkeypatch, request):
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)
    return request.getfixturevalue("client")


def item(prompt: str | None = None, **fields) -> dict:
    return {
        "prompt": prompt or unique_prompt("A sneaker on a beach"),
        "model": "sora-2",
        "duration": 4,
        "resolution": "720x1280",
        **fields,
    }


async def credits_of(user_id: int) -> int:
    return (await Users.select(Users.credits).where(Users.id == user_id).first())["credits"]


async def charges_of(user_id: int) -> int:
    return await CreditTransactions.count().where(CreditTransactions.user == user_id)


async def test_three_variations_make_three_videos_and_three_charges(jobs) -> None:
    user, headers = await api_user(credits=1_000)
    before = await charges_of(user.id)
    response = await jobs.post("/api/v1/videos/generate", json=item(variations=3), headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    ids = [v["id"] for v in body["variations"]]
    assert len(set(ids)) == 3 and body["id"] == ids[0]
    assert len({v["group_id"] for v in body["variations"]}) == 1 and body["group_id"]
    for video_id in ids:
        video = await wait_for_final(video_id)
        assert video.status == "completed", video.error_message
        assert await ledger_of(video_id) == [("generation", -100, 1)]
    assert await credits_of(user.id) == 700 and await charges_of(user.id) == before + 3
    keys = {v.video_key for v in await Videos.objects().where(Videos.id.is_in(ids))}
    assert len(keys) == 3  # three separate files


async def test_not_enough_credits_for_all_variations_is_402_and_nothing_is_charged(jobs) -> None:
    user, headers = await api_user(credits=250)  # two of three
    response = await jobs.post("/api/v1/videos/generate", json=item(variations=3), headers=headers)
    assert (response.status_code, response.json()["code"]) == (402, "insufficient_credits")
    assert "3 videos cost 300 credits" in response.json()["detail"]
    assert await credits_of(user.id) == 250
    assert await Videos.count().where(Videos.user == user.id) == 0


@pytest.mark.parametrize("variations", [0, 5])
async def test_variations_outside_one_to_four_are_refused(jobs, variations: int) -> None:
    user, headers = await api_user(credits=1_000)
    response = await jobs.post("/api/v1/videos/generate", json=item(variations=variations), headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_variations")
    assert await credits_of(user.id) == 1_000


async def test_a_batch_of_twenty_with_one_bad_item_is_refused_whole(jobs) -> None:
    user, headers = await api_user(credits=10_000)
    items = [item() for _ in range(20)]
    items[13] = item(resolution="640x480")
    response = await jobs.post("/api/v1/videos/batch", json={"items": items}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("Item 14: ")
    assert await credits_of(user.id) == 10_000
    assert await Videos.count().where(Videos.user == user.id) == 0


async def test_a_batch_over_twenty_is_refused(jobs) -> None:
    user, headers = await api_user(credits=10_000)
    response = await jobs.post("/api/v1/videos/batch", json={"items": [item() for _ in range(21)]}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_batch")
    assert await Videos.count().where(Videos.user == user.id) == 0


async def test_a_batch_too_dear_for_the_balance_charges_nothing(jobs) -> None:
    user, headers = await api_user(credits=350)
    items = [item(), item(variations=2), item()]  # 4 videos, 400 credits
    response = await jobs.post("/api/v1/videos/batch", json={"items": items}, headers=headers)
    assert response.status_code == 402
    assert await credits_of(user.id) == 350 and await Videos.count().where(Videos.user == user.id) == 0


async def test_a_batch_answers_with_every_video_and_its_states(jobs) -> None:
    user, headers = await api_user(credits=1_000)
    items = [item(), item(resolution="1280x720", variations=2)]
    response = await jobs.post("/api/v1/videos/batch", json={"items": items}, headers=headers)
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["total"] == 3 and batch["credits_charged"] == 300 and len(batch["videos"]) == 3
    assert {v["batch_id"] for v in batch["videos"]} == {batch["id"]}
    for video in batch["videos"]:
        await wait_for_final(video["id"])
    state = await jobs.get(f"/api/v1/batches/{batch['id']}", headers=headers)
    assert state.status_code == 200
    assert state.json()["counts"] == {"completed": 3}
    assert [v["resolution"] for v in state.json()["videos"]] == ["720x1280", "1280x720", "1280x720"]
    assert await credits_of(user.id) == 700

    _, stranger = await api_user(credits=1_000)
    assert (await jobs.get(f"/api/v1/batches/{batch['id']}", headers=stranger)).status_code == 404
    assert (await jobs.get("/api/v1/batches/not-a-batch", headers=headers)).status_code == 404


@pytest.fixture
def one_slot(openai_emulator, monkeypatch, request):
    """Basic plans make one video at a time (the per-plan cap on provider jobs in flight)."""
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)
    monkeypatch.setenv("MAX_JOBS_IN_FLIGHT_BASIC", "1")
    return request.getfixturevalue("client")


async def test_variations_past_the_plans_cap_wait_for_a_slot_then_finish(one_slot) -> None:
    from app.tables import VideoEvents

    user, headers = await api_user(credits=1_000)
    response = await one_slot.post("/api/v1/videos/generate", json=item(variations=3), headers=headers)
    assert response.status_code == 202, response.text
    ids = [v["id"] for v in response.json()["variations"]]
    for video_id in ids:
        assert (await wait_for_final(video_id)).status == "completed"
    waited = await VideoEvents.count().where(
        VideoEvents.video.is_in(ids) & VideoEvents.message.like("Waiting for a free slot%")
    )
    assert waited >= 1  # the excess waited in our queue, visibly, and started as the slot freed
    assert await credits_of(user.id) == 700
