"""How many live streams (SSE) one user may hold open at once, across every web process.

Each open stream is a member of the user's sorted set in Redis, scored by when it last proved alive
(the stream refreshes it on every keep-alive), so the streams of a killed process age out by
themselves. Without REDIS_URL the count is kept in this process. If Redis is unreachable the stream
is allowed (the stream itself then waits for Redis).
"""

from __future__ import annotations

import logging
import time
import uuid

from redis.exceptions import RedisError

from app.config import get_settings
from app.errors import AppError
from app.limits import shared_redis

log = logging.getLogger("adsvideo.limits")

# A stream not refreshed for this long is counted as closed (keep-alives come every 15 s).
STREAM_TTL_SECONDS = 60

_local: dict[int, dict[str, float]] = {}


class TooManyStreams(AppError):
    status_code = 429
    code = "too_many_streams"

    def __init__(self, limit: int):
        super().__init__(f"You have {limit} live streams open already; close one (or a tab) and try again.")
        self.headers = {"Retry-After": "15"}


def _key(user_id: int) -> str:
    return f"adsvideo:streams:{user_id}"


class StreamSlot:
    """A held place among a user's open streams; `refresh()` on every keep-alive."""

    def __init__(self, user_id: int, token: str, url: str | None):
        self.user_id, self.token, self.url = user_id, token, url

    async def refresh(self) -> None:
        if not self.url:
            if self.token in _local.get(self.user_id, {}):
                _local[self.user_id][self.token] = time.monotonic()
            return
        try:
            await shared_redis.client(self.url).zadd(_key(self.user_id), {self.token: time.time()})
        except (RedisError, OSError):
            pass

    async def release(self) -> None:
        if not self.url:
            _local.get(self.user_id, {}).pop(self.token, None)
            return
        try:
            await shared_redis.client(self.url).zrem(_key(self.user_id), self.token)
        except (RedisError, OSError):
            pass  # it ages out


async def acquire(user_id: int) -> StreamSlot:
    """A place for one more stream of `user_id`, or TooManyStreams."""
    settings = get_settings()
    limit = settings.max_open_streams_per_user
    token = uuid.uuid4().hex
    url = settings.redis_url
    if not url:
        held = _local.setdefault(user_id, {})
        for stale in [t for t, seen in held.items() if seen < time.monotonic() - STREAM_TTL_SECONDS]:
            del held[stale]
        if len(held) >= limit:
            raise TooManyStreams(limit)
        held[token] = time.monotonic()
        return StreamSlot(user_id, token, None)
    now = time.time()
    key = _key(user_id)
    try:
        async with shared_redis.client(url).pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - STREAM_TTL_SECONDS)
            pipe.zadd(key, {token: now})
            pipe.zcard(key)
            pipe.expire(key, STREAM_TTL_SECONDS * 2)
            _, _, count, _ = await pipe.execute()
        if count > limit:
            await shared_redis.client(url).zrem(key, token)
            raise TooManyStreams(limit)
    except (RedisError, OSError) as exc:
        log.warning("open streams not counted, Redis is unreachable: %s", exc)
    return StreamSlot(user_id, token, url)
