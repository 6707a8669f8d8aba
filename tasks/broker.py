"""The Dramatiq broker: Redis when REDIS_URL is set, otherwise in-process with a worker inside the web app.

Import this module before any actor module: actors bind to the broker current at declaration.
"""

from __future__ import annotations

import signal
import threading
import time

import dramatiq
from dramatiq import Broker, Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from app.config import get_settings
from app.ops.setup import setup_process
from app.videos import pipeline
from tasks.db_pool import WorkerPool
from tasks.job_context import JobContext
from tasks.job_metrics import JobMetrics
from tasks.reconciler import ReconcilerMiddleware
from tasks.waking_broker import WakingRedisBroker


def build_broker(redis_url: str | None) -> Broker:
    """A Redis broker for `redis_url`, else the in-process StubBroker; both run async actors."""
    if redis_url:
        # Retries and TimeLimit are in Dramatiq's default middleware; AsyncIO runs `async def` actors.
        broker: Broker = WakingRedisBroker(url=redis_url, heartbeat_timeout=30_000)
    else:
        broker = StubBroker(fail_fast_default=False)
        broker.emit_after("process_boot")
    broker.add_middleware(AsyncIO())
    broker.add_middleware(WorkerPool())
    broker.add_middleware(ReconcilerMiddleware())
    broker.add_middleware(JobContext())
    settings = get_settings()
    serve = (
        (settings.worker_metrics_host, settings.worker_metrics_port)
        if redis_url and settings.worker_metrics_port
        else None
    )
    broker.add_middleware(JobMetrics(serve=serve))
    broker.add_middleware(HandBackOnShutdown())
    return broker


# A SIGTERM repeated within this many seconds is the same stop request arriving twice, not "kill now".
REPEAT_SIGTERM_SECONDS = 5.0


class HandBackOnShutdown(dramatiq.Middleware):
    """When the worker is told to stop (SIGTERM), jobs waiting on a provider go back to the queue at once."""

    def after_process_boot(self, broker) -> None:
        """In a `dramatiq` worker process: the first SIGTERM starts the hand-back, a repeat within seconds is ignored.

        A platform stopping a dyno signals every process in it while dramatiq's main process forwards the
        same SIGTERM to its workers; dramatiq treats a second one as "kill now", which would cut the jobs off.
        """
        stop = signal.getsignal(signal.SIGTERM)
        if (
            threading.current_thread() is not threading.main_thread()
            or getattr(stop, "__module__", "") != "dramatiq.cli"
        ):
            return  # not a worker process of the `dramatiq` command (e.g. the web app's embedded worker)
        first: list[float] = []

        def on_sigterm(signum, frame) -> None:
            if first and time.monotonic() - first[0] < REPEAT_SIGTERM_SECONDS:
                return
            first.append(time.monotonic())
            pipeline.draining.set()
            stop(signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)

    def after_worker_boot(self, broker, worker) -> None:
        pipeline.draining.clear()

    def before_worker_shutdown(self, broker, worker) -> None:
        pipeline.draining.set()


def start_embedded_worker(broker: Broker, threads: int = 2) -> Worker:
    """The in-process worker of the embedded default; it starts and stops with the web app."""
    # Its threads notice a stop request within one poll: a short poll makes the app's shutdown (a reload,
    # Ctrl-C) prompt, at the cost of a few idle wake-ups a second.
    worker = Worker(broker, worker_threads=threads, worker_timeout=20)
    worker.start()
    return worker


# A `dramatiq tasks` worker process starts here: logs and error tracking first (the Sentry
# integration hooks into the broker's constructor).
setup_process(get_settings())
dramatiq.set_broker(build_broker(get_settings().redis_url))
