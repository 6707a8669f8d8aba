"""The live-progress streams at the service level: order, replay, resync, keep-alives, cleanup."""

from __future__ import annotations

import asyncio

import pytest

from app.errors import NotFound
from app.videos import library, live, progress
from tests.billing_factories import make_user
from tests.live_steps import HAPPY_PATH, announce, fail_with_refund, new_video, step


async def next_update(updates, timeout: float = 5) -> live.Update:
    return await asyncio.wait_for(anext(updates), timeout)


async def test_a_stream_starts_with_the_current_state_then_follows_every_step_to_done(settings):
    user = await make_user()
    video_id = await new_video(user.id)
    updates = live.video_updates(video_id)
    first = await next_update(updates)
    assert (first.kind, first.video.status, first.event.step) == ("progress", "pending", "queued")

    seen = []
    for name, pct in HAPPY_PATH:
        event_id = await step(video_id, name, pct)
        update = await next_update(updates)
        assert update.event_id == event_id
        seen.append((update.kind, update.event.step, update.video.progress))
    assert seen == [("progress", n, p) for n, p in HAPPY_PATH[:-1]] + [("done", "completed", 100)]
    with pytest.raises(StopAsyncIteration):
        await next_update(updates)


async def test_connecting_mid_job_sends_the_current_state_first(settings):
    user = await make_user()
    video_id = await new_video(user.id)
    for name, pct in HAPPY_PATH[:4]:
        last = await step(video_id, name, pct)
    updates = live.video_updates(video_id)
    first = await next_update(updates)
    assert (first.kind, first.event_id, first.video.step, first.video.progress) == ("progress", last, "generating", 40)
    assert [e.step for e in first.events] == ["queued", "preparing", "submitting", "waiting", "generating"]
    await updates.aclose()


async def test_a_reconnect_with_last_event_id_gets_only_the_missed_steps_each_as_it_was(settings):
    user = await make_user()
    video_id = await new_video(user.id)
    ids = [await step(video_id, name, pct) for name, pct in HAPPY_PATH[:3]]
    for name, pct in HAPPY_PATH[3:5]:
        await step(video_id, name, pct)
    updates = live.video_updates(video_id, last_event_id=ids[1])
    replayed = [await next_update(updates) for _ in range(3)]
    assert [(u.event.step, u.video.progress, u.video.status) for u in replayed] == [
        ("waiting", 0, "processing"),
        ("generating", 40, "processing"),
        ("generating", 90, "processing"),
    ]
    assert [u.event_id for u in replayed] == sorted(u.event_id for u in replayed) and replayed[0].event_id > ids[1]
    done_id = await step(video_id, "completed", 100)
    final = await next_update(updates)
    assert (final.kind, final.event_id) == ("done", done_id)
    with pytest.raises(StopAsyncIteration):
        await next_update(updates)


async def test_a_finished_video_sends_done_at_once_and_ends(settings):
    user = await make_user(credits=300)
    video_id = await new_video(user.id, charge=100)
    await step(video_id, "preparing")
    await fail_with_refund(video_id, "Moderation blocked this prompt.")
    updates = live.video_updates(video_id)
    done = await next_update(updates)
    assert (done.kind, done.video.status, done.refund, done.credits) == ("done", "failed", 100, 300)
    assert done.video.error_message == "Moderation blocked this prompt."
    with pytest.raises(StopAsyncIteration):
        await next_update(updates)
    # Reconnecting after the end (Last-Event-ID = the final event) still says it is done.
    again = live.video_updates(video_id, last_event_id=done.event_id)
    assert (await next_update(again)).kind == "done"


async def test_after_a_resync_the_steps_missed_while_redis_was_away_come_from_the_database(settings):
    user = await make_user()
    video_id = await new_video(user.id)
    updates = live.video_updates(video_id)
    await next_update(updates)
    lost = [await step(video_id, name, pct, publish=False) for name, pct in HAPPY_PATH[:2]]
    progress.hub.resync_all()
    replayed = [await next_update(updates) for _ in lost]
    assert [u.event_id for u in replayed] == lost
    # A late duplicate of an event already replayed is not sent twice: the next update is the next step.
    await announce(video_id, lost[-1])
    following = await step(video_id, "waiting")
    assert (await next_update(updates)).event_id == following
    await updates.aclose()


async def test_an_idle_stream_sends_keep_alives(settings):
    user = await make_user()
    video_id = await new_video(user.id)
    updates = live.video_updates(video_id, keepalive=0.05)
    await next_update(updates)
    assert (await next_update(updates)) is live.KEEPALIVE
    assert (await next_update(updates)) is live.KEEPALIVE
    await updates.aclose()


async def test_a_client_going_away_frees_its_subscription(settings):
    user = await make_user()
    video_id = await new_video(user.id)
    before = progress.hub.count()
    updates = live.video_updates(video_id)
    await next_update(updates)
    assert progress.hub.count() == before + 1
    # What Litestar does on disconnect: the task waiting for the next update is cancelled.
    waiting = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert progress.hub.count() == before


async def test_only_the_owner_can_watch_a_video(settings):
    owner, other = await make_user(), await make_user()
    video_id = await new_video(owner.id)
    assert (await library.get_video(owner.id, video_id)).id == video_id
    for user, vid in ((other, video_id), (owner, video_id + 999), (None, video_id)):
        with pytest.raises(NotFound):
            await library.get_video(user.id if user else None, vid)


async def test_the_list_stream_follows_every_in_flight_video_and_ends_when_none_is(settings):
    user = await make_user()
    first, second = await new_video(user.id), await new_video(user.id)
    finished = await new_video(user.id)
    await step(finished, "completed", 100)
    updates = live.user_updates(user.id)
    initial = [await next_update(updates) for _ in range(2)]
    assert [(u.kind, u.video.id) for u in initial] == [("card", first), ("card", second)]

    await step(second, "generating", 50)
    update = await next_update(updates)
    assert (update.kind, update.video.id, update.video.progress) == ("card", second, 50)
    await step(second, "completed", 100)
    assert (await next_update(updates)).video.status == "completed"
    await fail_with_refund(first)
    assert (await next_update(updates)).video.status == "failed"
    assert (await next_update(updates)).kind == "idle"
    with pytest.raises(StopAsyncIteration):
        await next_update(updates)


async def test_the_list_stream_with_nothing_in_flight_ends_at_once(settings):
    user = await make_user()
    updates = live.user_updates(user.id)
    assert (await next_update(updates)).kind == "idle"
