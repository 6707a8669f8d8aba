"""Runs the reconciler every `reconcile_interval_seconds` inside each worker (the CLI's and the embedded one),
on the loop that runs the actors (where a worker process keeps its database pool)."""

from __future__ import annotations

import asyncio
import logging
import threading

import dramatiq
from dramatiq.asyncio import get_event_loop_thread

from app.config import get_settings

log = logging.getLogger("adsvideo.reconciler")


class ReconcilerMiddleware(dramatiq.Middleware):
    """A background thread from worker boot to worker shutdown; the first pass runs at boot,
    so a restarted worker picks up what the previous one left."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(self._stop,), name="reconciler", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @staticmethod
    def _loop(stop: threading.Event) -> None:
        from app.videos.reconciler import reconcile

        while not stop.is_set():
            try:
                loop_thread = get_event_loop_thread()
                if loop_thread is not None:
                    loop_thread.run_coroutine(reconcile())
                else:
                    asyncio.run(reconcile())
            except Exception as exc:  # a database hiccup must not end the loop
                log.warning("reconciler pass failed: %s", exc)
            stop.wait(get_settings().reconcile_interval_seconds)
