"""One Redis client per event loop for the limits (a connection belongs to the loop that opened it)."""

from __future__ import annotations

import asyncio
import weakref

import redis.asyncio as aioredis

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]] = weakref.WeakKeyDictionary()


def client(url: str) -> aioredis.Redis:
    """A client with short timeouts: a limit check must never hang a request while Redis is away."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if url not in per_loop:
        per_loop[url] = aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return per_loop[url]
