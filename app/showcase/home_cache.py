"""A short-lived cache for public home-page data: in this process, or in Redis when REDIS_URL is set
(so every web process sees an admin's change at once). Values are bytes; keys are short strings."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.config import get_settings

TTL_SECONDS = 30
PREFIX = "adsvideo:home:"
log = logging.getLogger("adsvideo.home_cache")

_local: dict[str, tuple[float, bytes]] = {}
# A Redis connection belongs to one event loop (tests drive the app from another thread's loop).
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, aioredis.Redis]] = weakref.WeakKeyDictionary()


def _redis() -> aioredis.Redis | None:
    url = get_settings().redis_url
    if not url:
        return None
    loop = asyncio.get_running_loop()
    cached = _clients.get(loop)
    if cached is None or cached[0] != url:
        cached = (url, aioredis.Redis.from_url(url))
        _clients[loop] = cached
    return cached[1]


async def get(key: str) -> bytes | None:
    client = _redis()
    if client is not None:
        try:
            return await client.get(PREFIX + key)
        except RedisError:  # the page still renders from the database while Redis is away
            log.warning("home cache: Redis unavailable, reading from the database", exc_info=True)
            return None
    hit = _local.get(key)
    if hit is None or hit[0] < time.monotonic():
        _local.pop(key, None)
        return None
    return hit[1]


async def put(key: str, value: bytes) -> None:
    client = _redis()
    if client is not None:
        try:
            await client.set(PREFIX + key, value, ex=TTL_SECONDS)
        except RedisError:
            log.warning("home cache: Redis unavailable, not caching", exc_info=True)
        return
    if len(_local) > 512:  # category × page combinations are few; this only guards against junk queries
        _local.clear()
    _local[key] = (time.monotonic() + TTL_SECONDS, value)


async def invalidate() -> None:
    """Forget everything: called after any change to showcase videos, trial images or users shown."""
    _local.clear()
    client = _redis()
    if client is not None:
        keys = [key async for key in client.scan_iter(match=PREFIX + "*", count=500)]
        if keys:
            await client.delete(*keys)


def clear_local() -> None:
    """Drop this process's entries (tests start from a cold cache)."""
    _local.clear()
