"""Prometheus metrics, in the client's multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` is set.

In that mode each process (every web worker, every job worker on the same host) writes its samples
to files in the directory and a scrape of any one of them adds them all up. The variable must be in
the process environment before this module is imported, and the directory emptied when the host
starts (stale files from dead processes would otherwise be summed forever).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds. HTTP: time to the first byte; jobs and generations last up to half an hour.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "adsvideo_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "adsvideo_http_request_duration_seconds",
    "Time from a request to its response's first byte.",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
JOBS = Counter("adsvideo_jobs", "Jobs run, by actor and outcome (succeeded, failed, skipped).", ["actor", "outcome"])
JOB_DURATION = Histogram(
    "adsvideo_job_duration_seconds",
    "How long a job ran, by actor and outcome.",
    ["actor", "outcome"],
    buckets=JOB_BUCKETS,
)
JOBS_RUNNING = Gauge("adsvideo_jobs_running", "Jobs running now, by actor.", ["actor"], multiprocess_mode="livesum")
PROVIDER_CALLS = Counter(
    "adsvideo_provider_calls",
    "Calls to a video provider, by provider, model, operation and outcome.",
    ["provider", "model", "operation", "outcome"],
)
PROVIDER_DURATION = Histogram(
    "adsvideo_provider_call_duration_seconds",
    "How long a provider call took, by provider, model and operation.",
    ["provider", "model", "operation"],
    buckets=PROVIDER_BUCKETS,
)
GENERATIONS = Counter(
    "adsvideo_generations",
    "Videos finished, by provider, model and status (completed or failed).",
    ["provider", "model", "status"],
)
GENERATION_DURATION = Histogram(
    "adsvideo_generation_duration_seconds",
    "From a video's creation to its completion or failure.",
    ["provider", "model", "status"],
    buckets=JOB_BUCKETS,
)
CREDITS_CHARGED = Counter("adsvideo_credits_charged", "Credits charged for generations.")
CREDITS_REFUNDED = Counter("adsvideo_credits_refunded", "Credits refunded for failed generations.")
CREDITS_GRANTED = Counter(
    "adsvideo_credits_granted", "Credits granted (sign-up, plans, admins), by reason.", ["reason"]
)
SSE_STREAMS = Gauge(
    "adsvideo_sse_streams_open",
    "Server-Sent Event streams open now, by kind (page or api).",
    ["kind"],
    multiprocess_mode="livesum",
)
STORAGE_ERRORS = Counter("adsvideo_storage_errors", "Storage operations that failed, by operation.", ["operation"])


def multiprocess_dir() -> str | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's files in multiprocess mode, else this process's registry."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    merged = CollectorRegistry()
    MultiProcessCollector(merged, path=path)
    return merged


class _Snapshot:
    """Gauges measured at scrape time (queue depth, waiting videos), handed in by the caller."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self):
        return iter(self._families)


def gauge(name: str, documentation: str, values: dict[tuple[str, ...], float], labels: list[str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, number in values.items():
        family.add_metric(list(label_values), number)
    return family


def render(extra: list[GaugeMetricFamily] | None = None) -> bytes:
    """The Prometheus text exposition of every metric, plus `extra` gauges measured just now."""
    text = generate_latest(registry())
    if extra:
        snapshot = CollectorRegistry(auto_describe=False)
        snapshot.register(_Snapshot(extra))
        text += generate_latest(snapshot)
    return text


def mark_process_dead(pid: int | None = None) -> None:
    """Drop a finished process's live gauges (multiprocess mode only)."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
