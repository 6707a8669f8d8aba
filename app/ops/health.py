"""Readiness: can we reach the database, the broker and the media storage?"""

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


async def _check_broker() -> str:
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
    database, broker, storage = await asyncio.gather(_check_database(), _check_broker(), _check_storage())
    return {"database": database, "broker": broker, "storage": storage}
