"""CPU-heavy work (image decoding and re-encoding, thumbnails, renders) runs here, off the event loop.

A small thread pool does the work and a semaphore bounds how many jobs wait for it, so a burst of
large images queues instead of starving the server: requests keep being answered meanwhile (Pillow
and PyAV release the GIL while they decode and encode).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from app.config import get_settings

P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=get_settings().cpu_workers, thread_name_prefix="adsvideo-cpu")
        return _executor


def _semaphore() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    with _lock:
        for stale in [other for other in _semaphores if other.is_closed()]:
            del _semaphores[stale]
        if loop not in _semaphores:
            _semaphores[loop] = asyncio.Semaphore(get_settings().cpu_workers)
        return _semaphores[loop]


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on the CPU pool; at most CPU_WORKERS at a time, the rest wait their turn."""
    async with _semaphore():
        return await asyncio.get_running_loop().run_in_executor(_pool(), functools.partial(fn, *args, **kwargs))
