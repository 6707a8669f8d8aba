"""Measure the hot paths on this machine and print the numbers.

    python -m benchmarks.run            # everything
    python -m benchmarks.run http       # only the HTTP load test
    python -m benchmarks.run finishing  # ad finishing into four placements, on one core

HTTP load runs against a real uvicorn server (the same `python -m app serve` users run) on loopback,
with a bounded number of requests.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

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
        print(f"render {width}x{height} {seconds:>2}s clip{'':<17} {elapsed:8.2f} s    ({seconds * 24 / elapsed:.0f} frames/s)")


async def _ledger(n: int) -> None:
    from app import db
    from app.migrate import migrate
    from app.billing import ledger
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(client: httpx.AsyncClient, path: str, total: int, concurrency: int, headers=None) -> None:
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            start = time.perf_counter()
            response = await client.get(path, headers=headers)
            response.raise_for_status()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    _report(f"GET {path}{' ' + str(headers) if headers else ''}"[:38], latencies, time.perf_counter() - start)


def bench_http(total: int = 1000, concurrency: int = 16) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp}/http.db",
               "MEDIA_ROOT": f"{tmp}/media", "PORT": str(port), "HOST": "127.0.0.1"}
        env.pop("REDIS_URL", None)
        for command in (["migrate"], ["seed", "--quick"]):
            subprocess.run([sys.executable, "-m", "app", *command], cwd=ROOT, env=env, check=True, capture_output=True)
        server = subprocess.Popen([sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)

            async def run() -> None:
                limits = httpx.Limits(max_connections=concurrency)
                async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
                    await client.get("/")  # warm up
                    for path in ("/healthz", "/", "/api/v1/showcase/videos", "/media/public/showcase/run-lighter.mp4"):
                        if (await client.get(path)).status_code == 200:
                            await _load(client, path, total, concurrency)
                    await _load(client, "/media/public/showcase/run-lighter.mp4", total, concurrency,
                                headers={"Range": "bytes=0-65535"})

            print(f"HTTP against uvicorn on loopback, {concurrency} concurrent clients, SQLite, 1 process")
            asyncio.run(run())
        finally:
            server.terminate()
            server.wait(timeout=10)


def bench_finishing() -> None:
    subprocess.run([sys.executable, "-m", "benchmarks.finishing"], cwd=ROOT, check=True)


BENCHES = {"render": bench_render, "ledger": bench_ledger, "http": bench_http, "finishing": bench_finishing}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(BENCHES):
        BENCHES[name]()
