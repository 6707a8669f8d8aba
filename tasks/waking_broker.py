"""A Redis broker whose idle workers are woken by a new message instead of finding it on their next poll.

Dramatiq's Redis consumer polls: after each empty fetch it sleeps, backing off up to the worker timeout
(`dramatiq_worker_timeout`, the Procfile's DRAMATIQ_POLL_MS), so a job sent to an idle worker waited on
average half of that before it started. Here every immediate send also pushes a token onto the queue's
wake list, and an idle consumer waits on that list (BRPOP) for at most the same timeout: a new job
starts within a Redis round trip, and a worker that misses a token (another process took it) still
polls as often as before.
"""

from __future__ import annotations

import time

import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed

# Tokens kept per queue: enough to wake every idle worker of a burst, bounded when nobody is idle.
MAX_TOKENS = 64


class WakingRedisBroker(RedisBroker):
    @property
    def consumer_class(self):
        return _WakingConsumer

    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:{queue_name}.wake"

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        sent = super().enqueue(message, delay=delay)
        if delay is None:
            key = self.wake_key(sent.queue_name)
            pipe = self.client.pipeline(transaction=False)
            pipe.lpush(key, 1)
            pipe.ltrim(key, 0, MAX_TOKENS - 1)
            pipe.execute()
        return sent


class _WakingConsumer(_RedisConsumer):
    def __init__(self, broker: WakingRedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        # The parent's own back-off sleep becomes (next to) nothing; the wait happens on the wake list.
        super().__init__(broker, queue_name, prefetch, timeout=1)
        self.idle_seconds = timeout / 1000
        self.wake_key = broker.wake_key(queue_name)

    def __next__(self):
        message = super().__next__()
        if message is None:
            if self.outstanding_message_count >= self.prefetch:
                time.sleep(self.idle_seconds)  # busy: leave the tokens to workers that can take a job
            else:
                try:
                    self.broker.client.brpop([self.wake_key], timeout=self.idle_seconds)
                except redis.ConnectionError as exc:
                    raise ConnectionClosed(exc) from None
        return message
