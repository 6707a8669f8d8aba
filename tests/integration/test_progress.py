"""Progress fan-out: in-process across threads, and through Redis with one relay per web process."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
import redis.asyncio as aioredis

from app.config import get_settings
from app.videos import progress
from tests.services import REDIS_URL, require


def _publish_from_another_thread(video_id: int, user_id: int, payload: dict) -> None:
    """Like the embedded worker: a different thread with its own event loop."""
    thread = threading.Thread(target=lambda: asyncio.run(progress.publish(video_id, user_id, payload)))
    thread.start()
    thread.join()


async def test_in_process_events_reach_video_and_user_subscribers(settings):
    async with (
        progress.subscribe([progress.video_channel(7)]) as by_video,
        progress.subscribe([progress.user_channel(3)]) as by_user,
        progress.subscribe([progress.video_channel(8)]) as other,
    ):
        _publish_from_another_thread(7, 3, {"step": "submitting", "event_id": 1})
        assert (await by_video.get(timeout=2))["step"] == "submitting"
        assert (await by_user.get(timeout=2))["event_id"] == 1
        assert await other.get(timeout=0.2) is None


async def test_a_closed_subscription_is_freed(settings):
    before = progress.hub.count()
    async with progress.subscribe([progress.video_channel(1), progress.user_channel(1)]):
        assert progress.hub.count() == before + 1
    assert progress.hub.count() == before


@pytest.fixture
def redis_settings(settings, monkeypatch):
    require("redis")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_CHANNEL_PREFIX", f"t{uuid.uuid4().hex[:8]}:")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.mark.redis
async def test_events_published_to_redis_reach_subscribers_through_the_relay(redis_settings):
    relay = progress.RedisRelay(redis_settings.redis_url)
    relay.start()
    try:
        await asyncio.wait_for(relay.connected.wait(), 5)
        async with progress.subscribe([progress.video_channel(42)]) as sub:
            _publish_from_another_thread(42, 5, {"step": "generating", "progress": 40})
            event = await sub.get(timeout=3)
        assert event == {"step": "generating", "progress": 40}
    finally:
        await relay.stop()


@pytest.mark.redis
async def test_the_relay_recovers_when_redis_drops_it_and_asks_streams_to_resync(redis_settings):
    relay = progress.RedisRelay(redis_settings.redis_url)
    relay.start()
    admin = aioredis.Redis.from_url(redis_settings.redis_url)
    try:
        await asyncio.wait_for(relay.connected.wait(), 5)
        async with progress.subscribe([progress.video_channel(9)]) as sub:
            for client in await admin.client_list():
                if client["name"] == relay.client_name:  # only ours: other test runs share this server
                    await admin.client_kill_filter(_id=client["id"])
            assert await sub.get(timeout=10) == progress.RESYNC
            await asyncio.wait_for(relay.connected.wait(), 5)
            _publish_from_another_thread(9, 1, {"step": "completed"})
            assert (await sub.get(timeout=3))["step"] == "completed"
    finally:
        await admin.aclose()
        await relay.stop()


@pytest.mark.redis
async def test_publishing_never_fails_a_job_when_redis_is_unreachable(settings, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    try:
        await progress.publish(1, 1, {"step": "queued"})
    finally:
        get_settings.cache_clear()
