"""A short-lived cache for public home-page data: a Litestar store in this process, or in Redis when
REDIS_URL is set (so every web process sees an admin's change at once). Values are bytes."""

from __future__ import annotations

import asyncio
import logging
import weakref

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.exceptions import RedisError

from app.config import get_settings
from app.web import page_cache

TTL_SECONDS = 30
NAMESPACE = "adsvideo-home"
log = logging.getLogger("adsvideo.home_cache")

_memory = MemoryStore()
# A Redis connection belongs to one event loop (tests drive the app from another thread's loop).
_redis_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, RedisStore]] = (
    weakref.WeakKeyDictionary()
)


def _store() -> Store:
    url = get_settings().redis_url
    if not url:
        return _memory
    loop = asyncio.get_running_loop()
    cached = _redis_stores.get(loop)
    if cached is None or cached[0] != url:
        cached = (url, RedisStore.with_client(url=url, namespace=NAMESPACE))
        _redis_stores[loop] = cached
    return cached[1]


async def get(key: str) -> bytes | None:
    try:
        return await _store().get(key)
    except RedisError:  # the page still renders from the database while Redis is away
        log.warning("home cache: Redis unavailable, reading from the database", exc_info=True)
        return None


async def put(key: str, value: bytes) -> None:
    store = _store()
    try:
        await store.set(key, value, expires_in=TTL_SECONDS)
    except RedisError:
        log.warning("home cache: Redis unavailable, not caching", exc_info=True)
        return
    if store is _memory:
        await _memory.delete_expired()


async def invalidate() -> None:
    """Forget everything: called after any change to showcase videos, trial images or users shown."""
    page_cache.clear()
    await _memory.delete_all()
    store = _store()
    if store is not _memory:
        await store.delete_all()
