"""Readiness: can we reach the database, Redis (the broker, sessions and limits) and the media storage?"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

from app import db
from app.config import get_settings
from app.media.storage import get_storage

log = logging.getLogger("adsvideo.health")


async def _check_database() -> str:
    try:
        await asyncio.wait_for(db.ping(), timeout=3)
        return "ok"
    except Exception as exc:  # any failure means "not ready"; the message says why
        return f"error: {type(exc).__name__}"


async def _check_redis() -> str:
    url = get_settings().redis_url
    if not url:
        return "ok"  # the in-process broker is part of this process
    client = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        await client.aclose()


async def _check_storage() -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(get_storage().ping), timeout=5)
        return "ok"
    except Exception as exc:
        log.warning("readiness: storage: %s", exc)
        return f"error: {type(exc).__name__}"


async def readiness() -> dict[str, str]:
    """Each dependency by name: "ok" or what went wrong. Redis carries the job broker, the sessions and
    the limits; without REDIS_URL it is not used (the broker is in-process)."""
    database, redis_state, storage = await asyncio.gather(_check_database(), _check_redis(), _check_storage())
    return {"database": database, "redis": redis_state, "storage": storage}
