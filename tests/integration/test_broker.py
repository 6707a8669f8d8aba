"""A message travels through each broker to a real worker: in-process, and Redis through a real server."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
import redis
from dramatiq import Worker

from tasks import broker as broker_module
from tests.services import REDIS_URL, require

RECEIVED: set[str] = set()


def _run_ping(redis_url: str | None) -> str:
    broker = broker_module.configure(redis_url)

    name = f"ping_{uuid.uuid4().hex[:8]}"

    @dramatiq.actor(broker=broker, actor_name=name, queue_name=name)
    def ping(token: str) -> None:
        RECEIVED.add(token)
        if redis_url:
            redis.Redis.from_url(redis_url).set(f"adsvideo:ping:{token}", 1, ex=60)

    worker = Worker(broker, worker_timeout=100)
    worker.start()
    token = uuid.uuid4().hex
    try:
        ping.send(token)
        broker.join(ping.queue_name, timeout=10_000)
        worker.join()
    finally:
        worker.stop()
        broker_module.configure(None)
    return token


def test_in_process_broker_runs_the_actor():
    token = _run_ping(None)
    assert token in RECEIVED


@pytest.mark.redis
def test_redis_broker_runs_the_actor(monkeypatch):
    require("redis")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    from app.config import get_settings

    get_settings.cache_clear()
    try:
        token = _run_ping(REDIS_URL)
    finally:
        get_settings.cache_clear()
    assert token in RECEIVED
    assert redis.Redis.from_url(REDIS_URL).get(f"adsvideo:ping:{token}") == b"1"
