"""Graceful shutdown of a web process: on SIGTERM its live streams end at once, so each client reconnects
to another web process (an EventSource sends Last-Event-ID and misses nothing) instead of being cut off
when the server's grace period runs out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from app.videos import progress


@contextlib.contextmanager
def close_streams_on_sigterm() -> Iterator[None]:
    """While the app runs: SIGTERM first ends the streams, then does what it did before (uvicorn's shutdown)."""
    progress.hub.closing = False
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread (an app driven from elsewhere, as in tests)
        return
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame) -> None:
        loop.call_soon_threadsafe(progress.hub.close_all)  # not here: the handler may interrupt the hub's lock
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)
