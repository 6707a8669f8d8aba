"""Switching the process's Dramatiq broker between tests: a process of ours has one broker for its life,
but one test run drives apps with and without Redis, so the declared actors move to each new broker."""

from __future__ import annotations

import dramatiq
from dramatiq import Broker

from tasks.broker import build_broker

_current_url: str | None = None  # tasks.broker starts the test process on the in-process broker


def use_broker(redis_url: str | None) -> Broker:
    """The current broker if it already serves `redis_url`, else a fresh one (see `switch_broker`)."""
    if redis_url == _current_url:
        return dramatiq.get_broker()
    return switch_broker(redis_url)


def switch_broker(redis_url: str | None) -> Broker:
    """Make a fresh broker for `redis_url` current and move every declared actor onto it."""
    global _current_url
    _current_url = redis_url
    previous = dramatiq.get_broker()
    broker = build_broker(redis_url)
    dramatiq.set_broker(broker)
    for name in previous.get_declared_actors():
        actor = previous.get_actor(name)
        actor.broker = broker
        broker.declare_actor(actor)
    return broker
