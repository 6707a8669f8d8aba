"""Progress events: the worker publishes, every web process relays them to its live streams.

Channels are `video:{id}` and `user:{user_id}`. Embedded (no REDIS_URL), publishing goes straight
into this process's hub. With Redis, the worker PUBLISHes and each web process keeps ONE pattern
subscription (the relay) that fans out in memory, so a thousand watchers cost one Redis connection.
The database (`video_events`) stays the source of truth: a subscriber told to `resync` (the relay
lost Redis and reconnected) re-reads what it missed from there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.config import get_settings

log = logging.getLogger("adsvideo.progress")

RESYNC = {"type": "resync"}
# Sent to every stream of a web process that is shutting down: end now, the client reconnects elsewhere.
CLOSING = {"type": "closing"}


def video_channel(video_id: int) -> str:
    return f"video:{video_id}"


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def _prefix() -> str:
    """Redis channel names are global across databases; tests run in parallel set a prefix to stay apart."""
    return get_settings().redis_channel_prefix


class Subscription:
    """Events for a set of channels, delivered onto the subscriber's own event loop."""

    def __init__(self, channels: Iterable[str]) -> None:
        self.channels = frozenset(channels)
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or None when `timeout` seconds pass without one."""
        if not self.queue.empty():
            return self.queue.get_nowait()
        try:
            # A timeout scope, not wait_for: no task per wait, which a thousand idle streams would each pay.
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None


class Hub:
    """In-process fan-out. Safe to call `dispatch` from any thread (the embedded worker has its own loop)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()
        self.closing = False

    def add(self, sub: Subscription) -> None:
        with self._lock:
            for channel in sub.channels:
                self._subscribers[channel].add(sub)

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            for channel in sub.channels:
                subs = self._subscribers.get(channel)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._subscribers[channel]

    def count(self) -> int:
        with self._lock:
            return len({sub for subs in self._subscribers.values() for sub in subs})

    def dispatch(self, channel: str, payload: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        loop = _running_loop()
        for sub in targets:
            _deliver(sub, payload, loop)

    def resync_all(self) -> None:
        self._to_all(RESYNC)

    def close_all(self) -> None:
        """End every live stream of this process (and any opened from now on): it is shutting down."""
        self.closing = True
        self._to_all(CLOSING)

    def _to_all(self, payload: dict[str, Any]) -> None:
        with self._lock:
            targets = {sub for subs in self._subscribers.values() for sub in subs}
        loop = _running_loop()
        for sub in targets:
            _deliver(sub, payload, loop)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _deliver(sub: Subscription, payload: dict[str, Any], loop: asyncio.AbstractEventLoop | None = None) -> None:
    if sub.loop is loop:  # the relay's own loop: no cross-thread wake-up per subscriber
        sub.queue.put_nowait(payload)
        return
    try:
        sub.loop.call_soon_threadsafe(sub.queue.put_nowait, payload)
    except RuntimeError:  # the subscriber's loop has closed; it is going away
        pass


hub = Hub()


@asynccontextmanager
async def subscribe(channels: Iterable[str]) -> AsyncIterator[Subscription]:
    """Receive events for `channels` until the block exits (a closed stream frees its subscription)."""
    sub = Subscription(channels)
    hub.add(sub)
    if hub.closing:
        _deliver(sub, CLOSING, sub.loop)
    try:
        yield sub
    finally:
        hub.remove(sub)


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def _redis_client(url: str) -> aioredis.Redis:
    """One client per event loop (the web app and the worker each have their own)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        _clients[loop] = client
    return client


async def publish(video_id: int, user_id: int, payload: dict[str, Any]) -> None:
    """Announce a step. Never raises: the event row is already stored and streams resync from it."""
    await _publish_to((video_channel(video_id), user_channel(user_id)), payload, f"video {video_id}")


async def publish_to_user(user_id: int, payload: dict[str, Any]) -> None:
    """Tell the user's own streams something (a new notification). Never raises."""
    await _publish_to((user_channel(user_id),), payload, f"user {user_id}")


async def _publish_to(channels: tuple[str, ...], payload: dict[str, Any], what: str) -> None:
    url = get_settings().redis_url
    if not url:
        for channel in channels:
            hub.dispatch(channel, payload)
        return
    data = json.dumps(payload)
    prefix = _prefix()
    try:
        async with _redis_client(url).pipeline(transaction=False) as pipe:
            for channel in channels:
                pipe.publish(prefix + channel, data)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("could not publish an event for %s: %s", what, exc)


class RedisRelay:
    """One pattern subscription per web process, re-established with backoff if Redis goes away."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = _prefix()
        self.client_name = f"adsvideo-relay-{os.getpid()}-{id(self):x}"
        self.connected = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="progress-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        delay, first = 0.2, True
        while True:
            client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=2, health_check_interval=10, client_name=self.client_name
            )
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{self.prefix}video:*", f"{self.prefix}user:*")
                    self.connected.set()
                    if not first:
                        hub.resync_all()  # events published while we were away are only in the database
                    first, delay = False, 0.2
                    async for message in pubsub.listen():
                        if message.get("type") != "pmessage":
                            continue
                        channel = message["channel"].decode().removeprefix(self.prefix)
                        try:
                            hub.dispatch(channel, json.loads(message["data"]))
                        except ValueError:
                            log.warning("ignored a malformed progress message on %s", channel)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.connected.clear()
                log.warning("progress relay lost Redis (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                await client.aclose()
