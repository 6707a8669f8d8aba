"""A trivial actor that proves a message travels through the broker to a worker and back."""

from __future__ import annotations

import dramatiq
import redis

from app.config import get_settings

RECEIVED: list[str] = []


@dramatiq.actor(max_retries=0)
async def ping(token: str) -> None:
    """Record `token`; with Redis also in the key `adsvideo:ping:<token>` so another process can see it."""
    RECEIVED.append(token)
    url = get_settings().redis_url
    if url:
        client = redis.Redis.from_url(url)
        try:
            client.set(f"adsvideo:ping:{token}", "1", ex=60)
        finally:
            client.close()
