"""A message travels through each broker to a real worker: in-process, and Redis through a real server."""

from __future__ import annotations

import threading
import time
import uuid

import dramatiq
import pytest
import redis
from dramatiq import Worker

from tests.brokers import switch_broker, use_broker
from tests.services import REDIS_URL, require

RECEIVED: set[str] = set()


def _run_ping(redis_url: str | None) -> str:
    broker = switch_broker(redis_url)

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
        switch_broker(None)
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


@pytest.mark.redis
def test_an_idle_redis_consumer_takes_a_new_message_without_waiting_out_its_poll():
    """A consumer idle for long (Dramatiq's own back-off would now sleep out the whole minute-long poll)
    still takes a message sent now: the send wakes it."""
    require("redis")
    broker = switch_broker(REDIS_URL)
    name = f"wake_{uuid.uuid4().hex[:8]}"

    @dramatiq.actor(broker=broker, actor_name=name, queue_name=name)
    def wake(token: str) -> None:
        RECEIVED.add(token)

    consumer = broker.consume(name, prefetch=1, timeout=60_000)
    consumer.misses = 30  # as after a long idle spell
    taken = []

    def take() -> None:
        for message in consumer:
            if message is not None:
                taken.append(message)
                return

    thread = threading.Thread(target=take, daemon=True)
    token = uuid.uuid4().hex
    try:
        thread.start()
        time.sleep(0.5)  # let it start waiting
        wake.send(token)
        thread.join(timeout=10)
        assert taken and taken[0].args == (token,), "the message waited for the next poll"
        consumer.ack(taken[0])
    finally:
        consumer.close()
        switch_broker(None)
