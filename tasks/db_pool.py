"""A worker process of the `dramatiq` command queries PostgreSQL through one pool on its actors' event loop.

Without it every query opened a connection of its own (a handshake, TLS negotiation and a server
process each time), which cost more than the job's work. A pool belongs to one event loop, so only a
process where the actors' loop is the database's sole user gets one: a `dramatiq` worker process (the
reconciler runs on that loop too). The web app's embedded worker shares the engine with the web loop,
and tests drive it from theirs, so they keep a connection per query.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.asyncio import get_event_loop_thread

from app import db

log = logging.getLogger("adsvideo.jobs")


class WorkerPool(dramatiq.Middleware):
    def __init__(self) -> None:
        self._worker_process = False
        self._engine = None

    def after_process_boot(self, broker) -> None:
        # Only the `dramatiq` command emits process_boot to the app's middleware.
        self._worker_process = True

    def after_worker_boot(self, broker, worker) -> None:
        engine = db.current_engine()
        if not self._worker_process or not db.is_postgres(engine):
            return
        get_event_loop_thread().run_coroutine(db.start_pool(engine))
        self._engine = engine
        log.info("worker database pool started")

    def after_worker_shutdown(self, broker, worker) -> None:
        # Runs before the AsyncIO middleware stops the loop (after_* hooks run in reverse order).
        if self._engine is not None:
            get_event_loop_thread().run_coroutine(db.close_pool(self._engine))
            self._engine = None
