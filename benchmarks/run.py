"""Measure the hot paths on this machine and print the numbers.

    python -m benchmarks.run            # every component benchmark
    python -m benchmarks.run finishing  # ad finishing into four placements, on one core
    python -m benchmarks.run payments   # Stripe webhooks: first deliveries, redeliveries, one event x20 at once
    python -m benchmarks.run loop       # /healthz latency while four 6000x6600 PNGs are validated
    python -m benchmarks.run outbound   # signed webhook deliveries and SMTP emails, on loopback
    python -m benchmarks.run storage    # S3 backend: large upload/download (speed, client memory), presigning

The whole app under load, against bare Litestar and nginx, is `python -m benchmarks.suite` (`make bench`).
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _report(name: str, latencies: list[float], elapsed: float) -> None:
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(
        f"{name:<38} {len(latencies) / elapsed:8.1f} req/s   p50 {p(0.5):6.1f} ms   "
        f"p95 {p(0.95):6.1f} ms   p99 {p(0.99):6.1f} ms   (n={len(latencies)})"
    )


def bench_render() -> None:
    from app.media.render import render_clip

    for width, height, seconds in ((1280, 720, 4), (720, 1280, 8), (1280, 720, 12)):
        start = time.perf_counter()
        render_clip(io.BytesIO(), width=width, height=height, seconds=seconds, caption="A benchmark clip")
        elapsed = time.perf_counter() - start
        print(
            f"render {width}x{height} {seconds:>2}s clip{'':<17} {elapsed:8.2f} s    ({seconds * 24 / elapsed:.0f} frames/s)"
        )


async def _ledger(n: int) -> None:
    from app import db
    from app.billing import ledger
    from app.migrate import migrate
    from app.tables import Users

    await migrate()
    user = Users(email=f"bench{time.time_ns()}@example.com")
    await user.save()
    await ledger.apply(user.id, n, "admin")
    start = time.perf_counter()
    for _ in range(n):
        await ledger.apply(user.id, -1, "admin")
    elapsed = time.perf_counter() - start
    print(f"ledger debit, sequential ({db.current_engine().engine_type}){'':<6} {n / elapsed:8.1f} ops/s")
    await ledger.apply(user.id, n, "admin")
    start = time.perf_counter()
    results = await asyncio.gather(*(ledger.apply(user.id, -1, "admin") for _ in range(n)), return_exceptions=True)
    elapsed = time.perf_counter() - start
    failures = sum(isinstance(r, Exception) for r in results)
    print(f"ledger debit, {n} concurrent{'':<17} {n / elapsed:8.1f} ops/s   ({failures} failed)")


def bench_ledger() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        from app import db
        from app.config import get_settings

        get_settings.cache_clear()
        db.bind_engine(db.make_engine(os.environ["DATABASE_URL"]))
        asyncio.run(_ledger(200))


def bench_finishing() -> None:
    subprocess.run([sys.executable, "-m", "benchmarks.finishing"], cwd=ROOT, check=True)


def bench_payments() -> None:
    subprocess.run([sys.executable, "-m", "benchmarks.payments"], cwd=ROOT, check=True)


def bench_event_loop() -> None:
    subprocess.run([sys.executable, "-m", "benchmarks.event_loop"], cwd=ROOT, check=True)


def bench_outbound() -> None:
    from benchmarks.outbound import bench_outbound as run

    run(_report)


def bench_storage() -> None:
    from benchmarks.storage import bench_storage as run

    run()


BENCHES = {
    "render": bench_render,
    "ledger": bench_ledger,
    "finishing": bench_finishing,
    "payments": bench_payments,
    "outbound": bench_outbound,
    "storage": bench_storage,
    "loop": bench_event_loop,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(BENCHES):
        BENCHES[name]()
