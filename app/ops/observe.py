"""Metrics recorded where things happen: provider calls, finished generations, credits, streams, storage."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from app.ops import metrics

PROVIDER_OPERATIONS = ("submit", "status", "download", "cancel")


class ObservedProvider:
    """A provider whose calls are counted and timed by provider, model, operation and outcome."""

    def __init__(self, provider: Any, model: str) -> None:
        self._provider = provider
        self._model = model

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._provider, name)
        if name not in PROVIDER_OPERATIONS:
            return attribute

        @functools.wraps(attribute)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            labels = (getattr(self._provider, "name", type(self._provider).__name__), self._model, name)
            started = time.perf_counter()
            outcome = "error"
            try:
                result = await attribute(*args, **kwargs)
                outcome = "ok"
                return result
            except Exception as exc:
                outcome = _provider_outcome(exc)
                raise
            finally:
                metrics.PROVIDER_CALLS.labels(*labels, outcome).inc()
                metrics.PROVIDER_DURATION.labels(*labels).observe(time.perf_counter() - started)

        return timed


def _provider_outcome(exc: Exception) -> str:
    from app.providers.base import PermanentProviderError, TransientProviderError

    if isinstance(exc, TransientProviderError):
        return "transient_error"
    if isinstance(exc, PermanentProviderError):
        return "permanent_error"
    return "error"


def generation_finished(provider: str, model: str, status: str, created_at: datetime | None) -> None:
    metrics.GENERATIONS.labels(provider, model, status).inc()
    if created_at is not None:
        seconds = (datetime.now(timezone.utc) - created_at).total_seconds()
        metrics.GENERATION_DURATION.labels(provider, model, status).observe(max(seconds, 0.0))


def credits_changed(reason: str, delta: int) -> None:
    """Count a committed ledger row: generation debits, refunds, and every other grant."""
    if reason == "generation" and delta < 0:
        metrics.CREDITS_CHARGED.inc(-delta)
    elif reason == "refund" and delta > 0:
        metrics.CREDITS_REFUNDED.inc(delta)
    elif delta > 0:
        metrics.CREDITS_GRANTED.labels(reason).inc(delta)


async def counted_stream(kind: str, items: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """`items`, with the open-streams gauge up while a client is connected."""
    gauge = metrics.SSE_STREAMS.labels(kind)
    gauge.inc()
    try:
        async for item in items:
            yield item
    finally:
        gauge.dec()


class ObservedStorage:
    """A storage backend whose failures (disk or network errors, not missing files) are counted by operation."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._backend, name)
        if name.startswith("_") or not callable(attribute) or inspect.isclass(attribute):
            return attribute
        if inspect.iscoroutinefunction(attribute):

            @functools.wraps(attribute)
            async def counted_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await attribute(*args, **kwargs)
                except Exception as exc:
                    _count_storage_error(name, exc)
                    raise

            return counted_async

        @functools.wraps(attribute)
        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except Exception as exc:
                _count_storage_error(name, exc)
                raise

        return counted


def _count_storage_error(operation: str, exc: Exception) -> None:
    from app.media.backend import StorageError

    if isinstance(exc, FileNotFoundError):  # a missing file is the caller's answer, not a storage failure
        return
    if isinstance(exc, (OSError, StorageError)):
        metrics.STORAGE_ERRORS.labels(operation).inc()
