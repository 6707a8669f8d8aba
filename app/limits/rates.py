"""Request rate limits per route group, counted in fixed windows on Redis (so every web process shares
them) or in this process without REDIS_URL.

A route joins a group with `opt={RATE_LIMIT_OPT: "sign_in"}`; the group's rate is the setting
`RATE_LIMIT_<GROUP>` ("10/minute"). Signed-in callers are counted per user, others per client address.
Over the limit: 429 `rate_limited` with `Retry-After`. If Redis is unreachable the request is let through:
a limit must not turn a Redis blip into an outage.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.exceptions import RedisError

from app.config import RATE_PATTERN, get_settings
from app.errors import AppError
from app.limits import shared_redis

log = logging.getLogger("adsvideo.limits")

RATE_LIMIT_OPT = "rate_limit"
GROUPS = ("sign_in", "refresh", "upload", "validate", "generate")
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many requests; try again in {retry_after} s.")
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """ "10/minute", "100/hour", "5/10 seconds" -> Rate."""
    match = RATE_PATTERN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a rate like 10/minute")
    count, multiple, unit = match.groups()
    return Rate(int(count), int(multiple or 1) * _UNITS[unit])


def rate_for(group: str) -> Rate:
    return parse_rate(getattr(get_settings(), f"rate_limit_{group}"))


_memory: dict[str, tuple[int, int]] = {}


def _hit_memory(key: str, window: int, now: float) -> int:
    start = int(now // window)
    seen_start, count = _memory.get(key, (start, 0))
    count = count + 1 if seen_start == start else 1
    _memory[key] = (start, count)
    if len(_memory) > 100_000:  # forget finished windows
        for stale in [k for k, (s, _) in _memory.items() if s < start - 1]:
            _memory.pop(stale, None)
    return count


async def _hit_redis(url: str, key: str, window: int, now: float) -> int:
    bucket = f"adsvideo:rl:{key}:{int(now // window)}"
    async with shared_redis.client(url).pipeline(transaction=True) as pipe:
        pipe.incr(bucket)
        pipe.expire(bucket, window + 1)
        count, _ = await pipe.execute()
    return int(count)


async def hit(group: str, identity: str) -> None:
    """Count one request of `identity` in `group`; raise RateLimited when it is over the group's rate."""
    rate = rate_for(group)
    if rate.count <= 0:
        return
    now = time.time()
    key = f"{group}:{identity}"
    url = get_settings().redis_url
    if url:
        try:
            count = await _hit_redis(url, key, rate.seconds, now)
        except (RedisError, OSError) as exc:
            log.warning("rate limit not checked, Redis is unreachable: %s", exc)
            return
    else:
        count = _hit_memory(key, rate.seconds, now)
    if count > rate.count:
        raise RateLimited(max(1, math.ceil(rate.seconds - now % rate.seconds)))


def identity_of(scope: Scope) -> str:
    user = scope.get("user")
    if user is not None and getattr(user, "id", None) is not None:
        return f"user:{user.id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitMiddleware(ASGIMiddleware):
    """Counts requests to routes that name a group in their `opt`."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope.get("route_handler")
        group = (getattr(handler, "opt", None) or {}).get(RATE_LIMIT_OPT)
        if group:
            await hit(group, identity_of(scope))
        await next_app(scope, receive, send)
