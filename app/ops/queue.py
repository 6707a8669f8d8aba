"""How much work is waiting: messages in the broker's queues, and videos not started yet."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import dramatiq

from app.tables import Videos, VideoStatus


def _broker_depths() -> dict[str, int]:
    """Messages per queue (delayed ones included), as the current broker counts them."""
    if dramatiq.broker.global_broker is None:  # no broker in this process (a command-line tool)
        return {}
    broker = dramatiq.get_broker()
    depths: dict[str, int] = {}
    for name in sorted(broker.get_declared_queues()):
        if name.endswith((".DQ", ".XQ")):
            continue
        if hasattr(broker, "do_qsize"):  # Redis: waiting, delayed and unacknowledged messages
            depths[name] = int(broker.do_qsize(name))
        else:  # the in-process broker
            delayed = broker.queues.get(f"{name}.DQ")
            depths[name] = broker.queues[name].qsize() + (delayed.qsize() if delayed is not None else 0)
    return depths


async def broker_depths() -> dict[str, int]:
    try:
        return await asyncio.to_thread(_broker_depths)
    except Exception:  # the broker is down: the scrape still answers, the readiness probe says why
        return {}


async def waiting_videos() -> tuple[int, float]:
    """(videos not started yet, age in seconds of the oldest one)."""
    pending = Videos.status == VideoStatus.pending.value
    count = await Videos.count().where(pending)
    oldest = await Videos.select(Videos.created_at).where(pending).order_by(Videos.created_at).first()
    if not oldest or oldest["created_at"] is None:
        return count, 0.0
    created = oldest["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return count, max((datetime.now(timezone.utc) - created).total_seconds(), 0.0)
