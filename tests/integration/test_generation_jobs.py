"""Generation jobs end to end: the API, a real Dramatiq worker (in-process and on the real Redis), the real
`openai` SDK against the emulator over HTTP, real storage, and the MP4 read back with PyAV."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import redis
from dramatiq import Worker
from PIL import Image

from app.config import get_settings
from app.media import storage
from app.media.render import probe
from app.tables import Users, VideoEvents, Videos
from app.videos import pipeline, progress
from app.videos import service as videos_service
from app.videos.reconciler import reconcile
from tests.brokers import switch_broker, use_broker
from tests.jobs_support import (
    FAST_JOBS,
    STEPS,
    api_user,
    distinct_steps,
    drain,
    exif_rotated_jpeg,
    ledger_of,
    make_upload,
    provider_jobs,
    steps_of,
    unique_prompt,
    wait_for,
    wait_for_final,
)
from tests.services import REDIS_URL, require


@pytest.fixture
def job_env(request, openai_emulator, monkeypatch):
    """Fast polling and backoff, the session's emulator; with param "redis", the real Redis broker."""
    for name, value in FAST_JOBS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_emulator)
    mode = getattr(request, "param", "memory")
    if mode == "redis":
        require("redis")
        redis.Redis.from_url(REDIS_URL).flushdb()
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        monkeypatch.setenv("REDIS_CHANNEL_PREFIX", f"t{uuid.uuid4().hex[:8]}:")
    return mode


@pytest.fixture
def jobs(job_env, client, openai_emulator):
    """The API client with a worker behind it: the embedded one, or a Worker consuming from Redis."""
    worker = None
    if job_env == "redis":
        worker = Worker(use_broker(REDIS_URL), worker_threads=2, worker_timeout=100)
        worker.start()
    try:
        yield client
    finally:
        if worker is not None:
            worker.stop(timeout=10_000)
            switch_broker(None)
            redis.Redis.from_url(REDIS_URL).flushdb()


async def _true(value: bool) -> bool:
    return value


BOTH = pytest.mark.parametrize("job_env", ["memory", pytest.param("redis", marks=pytest.mark.redis)], indirect=True)


async def _generate(client, headers, prompt, **fields):
    body = {"prompt": prompt, "model": "sora-2", "duration": 4, "resolution": "1280x720", **fields}
    return await client.post("/api/v1/videos/generate", json=body, headers=headers)


@BOTH
async def test_a_job_ends_with_a_stored_mp4_of_the_requested_size_and_length(jobs, openai_emulator):
    user, headers = await api_user(credits=500)
    upload = await make_upload(user.id)
    original = storage.get_storage().read_bytes(upload.storage_key)
    prompt = unique_prompt()
    relay = jobs.app.state.progress_relay
    await wait_for(lambda: _true(relay is None or relay.connected.is_set()), what="the progress relay")

    async with progress.subscribe([progress.user_channel(user.id)]) as live:
        response = await _generate(jobs, headers, prompt, reference_image_id=upload.id)
        assert response.status_code == 202, response.text
        body = response.json()
        published = []
        while not (published and published[-1]["done"]):
            event = await live.get(timeout=60)
            assert event is not None, published
            if event.get("video_id") == body["id"]:  # the user's channel also carries notifications
                published.append(event)
    assert body["status"] == "pending" and body["credits_charged"] == 100
    assert body["reference_image_url"] == f"/media/{upload.storage_key}"

    video = await wait_for_final(body["id"])
    assert video.status == "completed", video.error_message
    assert video.progress == 100 and video.completed_at is not None
    assert video.video_url == f"/media/{video.video_key}" and video.video_key.startswith("videos/")
    assert video.poster_url == f"/media/{video.poster_key}" and video.poster_key.startswith("posters/")
    clip = probe(storage.get_storage().path(video.video_key))
    assert (clip["codec"], clip["width"], clip["height"]) == ("h264", 1280, 720)
    assert abs(clip["seconds"] - 4) < 0.2
    with Image.open(storage.get_storage().path(video.poster_key)) as poster:
        assert poster.size == (1280, 720)

    steps = await steps_of(video.id)
    assert distinct_steps(steps) == STEPS
    # Every stored step was published, in order, with the fields the live streams read.
    assert [e["step"] for e in published] == steps
    event_ids = await VideoEvents.select(VideoEvents.id).where(VideoEvents.video == video.id).order_by(VideoEvents.id)
    assert [e["event_id"] for e in published] == [r["id"] for r in event_ids]
    assert {e["video_id"] for e in published} == {video.id}
    assert [e["done"] for e in published] == [False] * (len(steps) - 1) + [True]
    assert published[-1]["status"] == "completed" and published[-1]["progress"] == 100
    assert all(e["message"] for e in published)
    values = (
        await VideoEvents.select(VideoEvents.progress).where(VideoEvents.video == video.id).order_by(VideoEvents.id)
    )
    assert [v["progress"] for v in values] == sorted(v["progress"] for v in values)

    assert len(provider_jobs(openai_emulator, prompt)) == 1
    assert await ledger_of(video.id) == [("generation", -100, 1)]
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 400
    # The original upload is kept as it was.
    assert storage.get_storage().read_bytes(upload.storage_key) == original

    shown = (await jobs.get(f"/api/v1/videos/{video.id}", headers=headers)).json()
    assert shown["status"] == "completed" and shown["video_url"] == video.video_url


@BOTH
async def test_a_rate_limit_is_waited_out_and_the_job_completes(jobs, openai_emulator):
    user, headers = await api_user()
    prompt = unique_prompt("Coffee beans falling [fault:429]")
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]
    video = await wait_for_final(video_id)
    assert video.status == "completed", video.error_message
    assert video.attempts == 1
    assert len(provider_jobs(openai_emulator, prompt)) == 1
    assert await ledger_of(video_id) == [("generation", -100, 1)]


async def test_five_hundred_four_times_fails_with_one_refund(jobs, openai_emulator):
    user, headers = await api_user(credits=300)
    prompt = unique_prompt("A watch on velvet [fault:500x4]")
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]
    video = await wait_for_final(video_id)
    assert video.status == "failed"
    assert video.attempts == 3
    assert "kept failing" in video.error_message and "500" not in video.error_message
    assert provider_jobs(openai_emulator, prompt) == []
    assert await ledger_of(video_id) == [("generation", -100, 1), ("refund", 100, 1)]
    assert (await steps_of(video_id))[-1] == "failed"

    # The failure handler running again (a redelivered message) refunds nothing more.
    await pipeline.run(video_id)
    await pipeline._fail(pipeline.Job.of(video), "again")
    assert await ledger_of(video_id) == [("generation", -100, 1), ("refund", 100, 1)]
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 300


async def test_a_moderation_block_fails_at_once_and_is_refunded(jobs, openai_emulator):
    user, headers = await api_user(credits=100)
    prompt = unique_prompt("A knife commercial [fault:moderation]")
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]
    video = await wait_for_final(video_id)
    assert video.status == "failed"
    assert video.attempts == 0
    assert "safety" in video.error_message
    assert len(provider_jobs(openai_emulator, prompt)) == 1
    assert await ledger_of(video_id) == [("generation", -100, 1), ("refund", 100, 1)]
    events = await VideoEvents.select(VideoEvents.message).where(
        (VideoEvents.video == video_id) & (VideoEvents.step == "failed")
    )
    assert len(events) == 1 and "100 credits were refunded" in events[0]["message"]
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 100


@BOTH
async def test_the_same_message_twice_makes_one_provider_job(jobs, openai_emulator):
    user, headers = await api_user()
    prompt = unique_prompt("Sunglasses on a dashboard")
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]
    videos_service.enqueue(video_id)  # delivered again while the first copy runs
    video = await wait_for_final(video_id)
    assert video.status == "completed", video.error_message
    videos_service.enqueue(video_id)  # and once more after it finished: left alone
    await drain()
    assert len(provider_jobs(openai_emulator, prompt)) == 1
    steps = await steps_of(video_id)
    assert distinct_steps(steps) == STEPS
    for step in ("preparing", "submitting", "waiting", "downloading", "completed"):
        assert steps.count(step) == 1, steps
    assert await ledger_of(video_id) == [("generation", -100, 1)]
    again = await Videos.objects().where(Videos.id == video_id).first()
    assert (again.video_key, again.completed_at) == (video.video_key, video.completed_at)


@BOTH
async def test_the_reconciler_recovers_a_job_whose_message_was_lost(job_env, settings, openai_emulator, monkeypatch):
    """The video is stored and charged, but its message is lost before any worker sees it; a worker
    that starts later finds it with its reconciler and makes it."""
    broker = switch_broker(settings.redis_url)
    user, _ = await api_user()
    prompt = unique_prompt("Headphones on a desk")
    video, created = await videos_service.create_video(
        user, prompt=prompt, model="sora-2", duration=4, resolution="1280x720"
    )
    assert created
    broker.flush_all()  # the message is gone
    monkeypatch.setenv("JOB_STALE_SECONDS", "1")
    get_settings.cache_clear()
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        done = await wait_for_final(video.id)
    finally:
        worker.stop(timeout=10_000)
        switch_broker(None)
        if settings.redis_url:
            redis.Redis.from_url(REDIS_URL).flushdb()
    assert done.status == "completed", done.error_message
    assert len(provider_jobs(openai_emulator, prompt)) == 1
    assert await ledger_of(video.id) == [("generation", -100, 1)]
    assert distinct_steps(await steps_of(video.id)) == STEPS


async def test_a_submit_slower_than_the_stale_limit_is_not_taken_for_dead(jobs, settings, openai_emulator, monkeypatch):
    """The provider takes longer to accept the job than JOB_STALE_SECONDS while the reconciler keeps
    looking: the run is still alive, so nobody prepares or submits the video a second time."""
    monkeypatch.setenv("JOB_STALE_SECONDS", "1")
    get_settings.cache_clear()
    user, headers = await api_user()
    prompt = unique_prompt("Lipstick on a marble table [fault:slow]")  # the create call answers after 3 s
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]
    video = await wait_for_final(video_id)
    assert video.status == "completed", video.error_message
    steps = await steps_of(video_id)
    for step in ("preparing", "submitting", "waiting", "completed"):
        assert steps.count(step) == 1, steps
    assert len(provider_jobs(openai_emulator, prompt)) == 1
    assert await ledger_of(video_id) == [("generation", -100, 1)]


async def test_the_reconciler_leaves_fresh_and_finished_jobs_alone(job_env, settings, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(videos_service, "enqueue", lambda video_id, **kw: sent.append(video_id))
    user, _ = await api_user()
    fresh, _ = await videos_service.create_video(
        user, prompt="fresh", model="sora-2", duration=4, resolution="1280x720"
    )
    old, _ = await videos_service.create_video(user, prompt="old", model="sora-2", duration=4, resolution="1280x720")
    done, _ = await videos_service.create_video(user, prompt="done", model="sora-2", duration=4, resolution="1280x720")
    long_ago = datetime.now(timezone.utc) - timedelta(seconds=settings.job_stale_seconds + 60)
    await Videos.update({Videos.updated_at: long_ago}, use_auto_update=False).where(Videos.id == old.id)
    await Videos.update({Videos.status: "completed", Videos.updated_at: long_ago}, use_auto_update=False).where(
        Videos.id == done.id
    )
    sent.clear()
    assert await reconcile() == [old.id]
    assert sent == [old.id]
    assert await reconcile() == []  # touched: not queued again in the same period


async def test_an_idempotency_key_returns_the_same_video_without_a_second_charge(jobs):
    user, headers = await api_user(credits=500)
    keyed = {**headers, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = await _generate(jobs, keyed, unique_prompt("Lipstick close-up"))
    second = await _generate(jobs, keyed, unique_prompt("Lipstick close-up"))
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert await Videos.count().where(Videos.user == user.id) == 1
    assert await ledger_of(first.json()["id"]) == [("generation", -100, 1)]
    # Another user's key space is their own.
    other, other_headers = await api_user()
    third = await _generate(jobs, {**other_headers, "Idempotency-Key": keyed["Idempotency-Key"]}, "A bag")
    assert third.status_code == 202 and third.json()["id"] != first.json()["id"]
    await wait_for_final(first.json()["id"])
    await wait_for_final(third.json()["id"])


async def test_retry_charges_again_and_resumes_to_a_finished_video(jobs, openai_emulator):
    user, headers = await api_user(credits=300)
    prompt = unique_prompt("Perfume bottle [fault:500x4]")
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]
    assert (await wait_for_final(video_id)).status == "failed"

    response = await jobs.post(f"/api/v1/videos/{video_id}/retry", headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    video = await wait_for_final(video_id)
    assert video.status == "completed", video.error_message
    assert video.attempts == 0 and video.error_message is None
    assert await ledger_of(video_id) == [("generation", -100, 1), ("refund", 100, 1), ("generation", -100, 2)]
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 200
    assert len(provider_jobs(openai_emulator, prompt)) == 1

    again = await jobs.post(f"/api/v1/videos/{video_id}/retry", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "not_failed"


async def test_retry_applies_the_credit_checks(jobs):
    user, headers = await api_user(credits=100)
    video_id = (await _generate(jobs, headers, unique_prompt("Tea cup [fault:moderation]"))).json()["id"]
    assert (await wait_for_final(video_id)).status == "failed"
    await Users.update({Users.subscription_plan: "free"}).where(Users.id == user.id)
    response = await jobs.post(f"/api/v1/videos/{video_id}/retry", headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "subscription_required"
    assert await ledger_of(video_id) == [("generation", -100, 1), ("refund", 100, 1)]
    assert (await Videos.objects().where(Videos.id == video_id).first()).status == "failed"


async def test_delete_removes_the_video_and_its_files(jobs):
    user, headers = await api_user()
    video_id = (await _generate(jobs, headers, unique_prompt("Bicycle"))).json()["id"]
    video = await wait_for_final(video_id)
    paths = [storage.get_storage().path(k) for k in (video.video_key, video.poster_key)]
    assert all(p.is_file() for p in paths)
    response = await jobs.delete(f"/api/v1/videos/{video_id}", headers=headers)
    assert response.status_code == 204
    assert not any(p.exists() for p in paths)
    assert (await jobs.get(f"/api/v1/videos/{video_id}", headers=headers)).status_code == 404
    assert await ledger_of(video_id) == []  # the ledger keeps its row, no longer linked to a video
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 900


async def test_a_video_the_provider_is_generating_cannot_be_deleted_yet(jobs):
    user, headers = await api_user(credits=100)
    prompt = unique_prompt("Skateboard trick [fault:stuck]")
    video_id = (await _generate(jobs, headers, prompt)).json()["id"]

    async def generating():
        row = await Videos.objects().where(Videos.id == video_id).first()
        return row if row.step == "generating" else None

    await wait_for(generating, what="the job to be generating")
    response = await jobs.delete(f"/api/v1/videos/{video_id}", headers=headers)
    assert response.status_code == 409 and response.json()["code"] == "video_generating"
    assert (await Videos.objects().where(Videos.id == video_id).first()).status == "processing"
    assert await ledger_of(video_id) == [("generation", -100, 1)]


async def test_deleting_a_queued_video_stops_and_refunds_it(jobs, monkeypatch):
    monkeypatch.setattr(videos_service, "enqueue", lambda video_id, **kw: None)  # no worker picks it up
    user, headers = await api_user(credits=100)
    video_id = (await _generate(jobs, headers, unique_prompt("Scarf"))).json()["id"]
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 0
    response = await jobs.delete(f"/api/v1/videos/{video_id}", headers=headers)
    assert response.status_code == 204
    assert await Videos.count().where(Videos.id == video_id) == 0
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 100
    # A late message for it finds nothing to do.
    await pipeline.run(video_id)


async def test_another_users_video_is_404_on_every_route(jobs):
    owner, owner_headers = await api_user()
    video_id = (await _generate(jobs, owner_headers, unique_prompt("Owner's [fault:moderation]"))).json()["id"]
    assert (await wait_for_final(video_id)).status == "failed"
    _, headers = await api_user()
    for method, url in [
        ("GET", f"/api/v1/videos/{video_id}"),
        ("DELETE", f"/api/v1/videos/{video_id}"),
        ("POST", f"/api/v1/videos/{video_id}/retry"),
    ]:
        response = await jobs.request(method, url, headers=headers)
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"detail": "Video not found.", "code": "video_not_found", "status_code": 404}
    listed = (await jobs.get("/api/v1/videos", headers=headers)).json()
    assert listed["items"] == [] and listed["total"] == 0
    assert await ledger_of(video_id) == [("generation", -100, 1), ("refund", 100, 1)]  # nothing retried
    assert await Videos.count().where(Videos.id == video_id) == 1  # nothing deleted
    # Someone else's upload cannot be a reference either.
    upload = await make_upload(owner.id)
    response = await _generate(jobs, headers, "Steal", reference_image_id=upload.id)
    assert response.status_code == 422 and response.json()["code"] == "reference_image_not_found"


async def test_every_route_needs_a_token(jobs):
    for method, url in [
        ("POST", "/api/v1/videos/generate"),
        ("GET", "/api/v1/videos"),
        ("GET", "/api/v1/videos/1"),
        ("DELETE", "/api/v1/videos/1"),
        ("POST", "/api/v1/videos/1/retry"),
    ]:
        response = await jobs.request(method, url, json={"prompt": "x"} if method == "POST" else None)
        assert response.status_code == 401, (method, url, response.text)
        assert response.json()["code"] == "not_authenticated"


async def test_the_list_is_the_callers_newest_first_paged_and_filtered(jobs, settings, monkeypatch):
    monkeypatch.setattr(videos_service, "enqueue", lambda video_id, **kw: None)
    user, headers = await api_user(credits=1000)
    ids = [(await _generate(jobs, headers, f"Video {n}")).json()["id"] for n in range(3)]
    await Videos.update({Videos.status: "failed"}).where(Videos.id == ids[0])
    other, other_headers = await api_user()
    await _generate(jobs, other_headers, "Not yours")
    page1 = (await jobs.get("/api/v1/videos?per_page=2", headers=headers)).json()
    assert [v["id"] for v in page1["items"]] == [ids[2], ids[1]]
    assert (page1["total"], page1["page"], page1["has_more"]) == (3, 1, True)
    page2 = (await jobs.get("/api/v1/videos?per_page=2&page=2", headers=headers)).json()
    assert [v["id"] for v in page2["items"]] == [ids[0]] and page2["has_more"] is False
    failed = (await jobs.get("/api/v1/videos?status=failed", headers=headers)).json()
    assert [v["id"] for v in failed["items"]] == [ids[0]]
    bad = await jobs.get("/api/v1/videos?status=lost", headers=headers)
    assert bad.status_code == 422 and "Unknown status" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"prompt": "   "}, 422, "invalid_prompt"),
        ({"prompt": "x" * 2001}, 422, "invalid_prompt"),
        ({"model": "sora-9"}, 422, "unknown_model"),
        ({"duration": 5}, 422, "invalid_duration"),
        ({"resolution": "640x480"}, 422, "invalid_resolution"),
        ({"model": "sora-2-pro", "resolution": "1792x1024"}, 403, "plan_upgrade_required"),
        ({"reference_image_id": 999999}, 422, "reference_image_not_found"),
        ({"trial_image_id": 999999}, 422, "reference_image_not_found"),
        ({"duration": 12}, 402, "insufficient_credits"),
    ],
)
async def test_bad_requests_are_refused_and_charge_nothing(jobs, fields, status, code):
    user, headers = await api_user(credits=200)
    response = await _generate(jobs, headers, **{"prompt": "A lamp", **fields})
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status_code"] == status and body["detail"]
    assert await Videos.count().where(Videos.user == user.id) == 0
    assert (await Users.select(Users.credits).where(Users.id == user.id).first())["credits"] == 200


async def test_the_plan_checks_come_in_the_seeds_order(jobs):
    _, free = await api_user(plan="free")
    response = await _generate(jobs, free, "A lamp")
    assert (response.status_code, response.json()["code"]) == (403, "subscription_required")
    assert response.json()["upgrade_url"].endswith("/pricing")  # where the client sends its user to pay
    _, expired = await api_user(status="expired")
    response = await _generate(jobs, expired, "A lamp")
    assert (response.status_code, response.json()["code"]) == (403, "subscription_expired")
    assert response.json()["upgrade_url"].endswith("/pricing")
    _, ended = await api_user(ends_in_days=-1)
    response = await _generate(jobs, ended, "A lamp")
    assert (response.status_code, response.json()["code"]) == (403, "subscription_expired")
    _, poor = await api_user(credits=50)
    response = await _generate(jobs, poor, "A lamp")
    assert (response.status_code, response.json()["code"]) == (402, "insufficient_credits")


async def test_the_model_list_has_sizes_prices_and_availability(jobs):
    response = await jobs.get("/api/v1/videos/models/list")
    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()}
    sora = models["sora-2"]
    assert sora["provider"] == "openai" and sora["name"] == "Sora 2"
    assert sora["durations"] == [4, 8, 12] and "1280x720" in sora["sizes"]
    assert sora["prices"] == [
        {"duration": 4, "credits": 100},
        {"duration": 8, "credits": 200},
        {"duration": 12, "credits": 300},
    ]
    assert sora["available"] is True and sora["reason"] is None
    assert "1792x1024" in models["sora-2-pro"]["sizes"]
    assert sora["needs_reference_image"] is False and models["gen4_turbo"]["needs_reference_image"] is True


def test_the_reference_is_turned_upright_and_cropped_to_exactly_the_output_size():
    fitted = pipeline.fit_reference(exif_rotated_jpeg(900, 600), 1280, 720)
    with Image.open(io.BytesIO(fitted)) as image:
        assert image.size == (1280, 720) and image.format == "JPEG"
        rgb = image.convert("RGB")
        # Stored red-top/blue-bottom, rotated 90° clockwise: upright, red is on the right.
        left, right = rgb.getpixel((100, 360)), rgb.getpixel((1180, 360))
    assert left[2] > 200 and left[0] < 60
    assert right[0] > 200 and right[2] < 60


def test_a_broken_reference_fails_with_words_a_user_understands():
    with pytest.raises(pipeline.JobFailed, match="could not be read as a picture"):
        pipeline.fit_reference(b"not an image", 1280, 720)
