"""Job metrics by actor and outcome, and (optionally) the worker's own metrics endpoint.

Dramatiq ships a Prometheus middleware, but it binds its exposition server on all interfaces with no
way to protect it, needs the `dramatiq` command's fork hooks (so not the web app's embedded worker),
manages a multiprocess directory of its own, and counts errors without an outcome label. This one
records into the app's registry (shared through `PROMETHEUS_MULTIPROC_DIR`), so the web app's
`/metrics` shows jobs of workers on the same host, and `serve_worker_metrics` can expose them on a
chosen address where the worker runs on a host of its own.
"""

from __future__ import annotations

import logging
import threading
import time

from dramatiq import Broker, Message, Middleware

from app.ops import metrics

log = logging.getLogger("adsvideo.jobs")


class JobMetrics(Middleware):
    """Counts and times every message by actor and outcome. `serve=(host, port)`: a worker (not a web
    process, which only enqueues) also serves /metrics there."""

    def __init__(self, serve: tuple[str, int] | None = None) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._serve = serve

    def after_worker_boot(self, broker: Broker, worker) -> None:
        if self._serve is not None:
            serve_worker_metrics(*self._serve)

    def before_process_message(self, broker: Broker, message: Message) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()
        metrics.JOBS_RUNNING.labels(message.actor_name).inc()

    def after_process_message(self, broker: Broker, message: Message, *, result=None, exception=None) -> None:
        self._finish(message, "failed" if exception is not None else "succeeded")

    def after_skip_message(self, broker: Broker, message: Message) -> None:
        self._finish(message, "skipped")

    def _finish(self, message: Message, outcome: str) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        if started is not None:
            metrics.JOB_DURATION.labels(message.actor_name, outcome).observe(time.perf_counter() - started)
            metrics.JOBS_RUNNING.labels(message.actor_name).dec()
        # Counted last: a scrape that sees the job counted also sees its duration.
        metrics.JOBS.labels(message.actor_name, outcome).inc()
        log.info(
            "job %s",
            outcome,
            extra={
                "actor": message.actor_name,
                "outcome": outcome,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
            },
        )

    def after_worker_shutdown(self, broker: Broker, worker) -> None:
        metrics.mark_process_dead()


def serve_worker_metrics(host: str, port: int) -> bool:
    """Serve /metrics from this worker process on host:port; False when a sibling process already does."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=host, registry=metrics.registry())
    except OSError:
        return False
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return True
