"""`make bench`: the app against the framework's own ceiling, in the production shape and embedded.

    python -m benchmarks.suite [--quick] [--json FILE] [--only CASE ...]

Every case prints its figure, the reference measured in the same run and their ratio, then one table;
the table is also written as JSON. Loopback only, bounded in time and requests. Numbers, not verdicts:
they depend on the machine (its core count is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from benchmarks import shape, wrk

GOALS = {"public": 0.5, "signed_in": 0.3, "media": 0.5}


@dataclass
class Row:
    shape: str
    case: str
    figure: float
    unit: str
    reference: float | None = None
    ratio: float | None = None
    goal: str = ""
    detail: str = ""


ROWS: list[Row] = []


def record(row: Row) -> None:
    ROWS.append(row)
    ratio = f"{row.ratio:6.3f}" if row.ratio is not None else "     -"
    reference = f"{row.reference:10.1f}" if row.reference is not None else " " * 10
    print(
        f"  {row.shape:<11} {row.case:<42} {row.figure:10.1f} {row.unit:<6} {reference}  {ratio}  "
        f"{row.goal:<12} {row.detail}",
        flush=True,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the app's own data, written in-process (the harness binds the same database) -------------------------


def bind(running: shape.Running) -> None:
    os.environ.update({k: v for k, v in running.env.items() if k in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")})
    if "REDIS_URL" not in running.env:
        os.environ.pop("REDIS_URL", None)
    from app import db
    from app.config import get_settings

    get_settings.cache_clear()
    db.bind_engine(db.make_engine(os.environ["DATABASE_URL"]))


async def make_user(email: str, plan: str = "basic", credits: int = 0) -> tuple[int, str]:
    """A user on `plan` with `credits` (a ledger row), and a bearer token for the API."""
    from app.accounts import tokens
    from app.billing import ledger
    from app.tables import Users

    user = Users(email=email, name=email.split("@")[0], subscription_plan=plan)
    await user.save()
    if credits:
        await ledger.apply(user.id, credits, "admin")
    return user.id, (await tokens.issue_pair(user.id)).access_token


async def add_videos(user_id: int, count: int, status: str = "completed") -> list[int]:
    from app.tables import Videos

    rows = [
        Videos(
            user=user_id,
            prompt=f"Bench video {i}",
            model="sora-2",
            duration=4,
            resolution="1280x720",
            status=status,
            step="completed" if status == "completed" else "generating",
            progress=50,
        )
        for i in range(count)
    ]
    await Videos.insert(*rows)
    return [r["id"] for r in await Videos.select(Videos.id).where(Videos.user == user_id)]


def run_async(coro):
    from app import db

    async def wrapped():
        try:
            return await coro
        finally:
            await db.close_pool(db.current_engine())

    return asyncio.run(wrapped())


def session_cookie(base: str, email: str) -> str:
    """Sign in through the Google emulator the way a browser does; the Cookie header of that session."""
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as client:
        response = client.get("/auth/login", params={"login_hint": email, "next": "/account"})
        response.raise_for_status()
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


# --- cases --------------------------------------------------------------------------------------------


def case_public(running: shape.Running, bare: str, seconds: int) -> None:
    reference = wrk.run(f"{bare}/plain", seconds=seconds)
    record(
        Row(
            running.name,
            "bare Litestar /plain (reference)",
            reference.requests_per_second,
            "req/s",
            detail=f"p99 {reference.p99_ms:.1f} ms",
        )
    )
    for path in ("/", "/pricing", "/api/v1/showcase/videos", "/healthz"):
        result = wrk.run(f"{running.base}{path}", seconds=seconds)
        record(
            Row(
                running.name,
                f"GET {path}",
                result.requests_per_second,
                "req/s",
                reference.requests_per_second,
                result.requests_per_second / reference.requests_per_second,
                "≥ 0.5",
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors {result.errors}",
            )
        )


def case_signed_in(running: shape.Running, bare: str, seconds: int) -> None:
    email = "bench-signed-in@demo.adsvideo.local"
    cookie = session_cookie(running.base, email)

    async def setup() -> str:
        from app.accounts import tokens
        from app.billing import ledger
        from app.tables import Users

        user = await Users.objects().where(Users.email == email).first()
        await Users.update({Users.subscription_plan: "basic"}).where(Users.id == user.id)
        await ledger.apply(user.id, 10_000, "admin")
        await add_videos(user.id, 100)
        return (await tokens.issue_pair(user.id)).access_token

    token = run_async(setup())
    reference = wrk.run(f"{bare}/plain", seconds=seconds).requests_per_second
    for path, headers in (
        ("/videos", {"Cookie": cookie}),
        ("/account", {"Cookie": cookie}),
        ("/create", {"Cookie": cookie}),
        ("/api/v1/videos", {"Authorization": f"Bearer {token}"}),
    ):
        result = wrk.run(f"{running.base}{path}", seconds=seconds, headers=headers)
        label = f"GET {path} ({'bearer' if 'Authorization' in headers else 'signed in'}, 100 videos)"
        record(
            Row(
                running.name,
                label,
                result.requests_per_second,
                "req/s",
                reference,
                result.requests_per_second / reference,
                "≥ 0.3",
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors {result.errors}",
            )
        )


def case_media(running: shape.Running, tmp: Path, seconds: int) -> None:
    size = 50 * 1024 * 1024
    folder = running.media_root / "public" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "big.mp4").write_bytes(os.urandom(size))
    os.environ["MEDIA_SIZE"] = str(size)
    with shape.nginx(running.media_root, tmp / "nginx") as ceiling:
        reference = wrk.run(f"{ceiling}/public/bench/big.mp4", seconds=seconds, script="player_ranges.lua")
    result = wrk.run(f"{running.base}/media/public/bench/big.mp4", seconds=seconds, script="player_ranges.lua")
    record(
        Row(
            running.name,
            "media: 1 MiB Range slices of 50 MB (MB/s)",
            result.bytes_per_second / 1e6,
            "MB/s",
            reference.bytes_per_second / 1e6,
            result.bytes_per_second / reference.bytes_per_second,
            "≥ 0.5 nginx",
            f"p99 {result.p99_ms:.1f} ms vs nginx {reference.p99_ms:.1f} ms",
        )
    )


async def _generate(client: httpx.AsyncClient, token: str, prompt: str) -> httpx.Response:
    return await client.post(
        "/api/v1/videos/generate",
        headers={"Authorization": f"Bearer {token}"},
        json={"prompt": prompt, "model": "sora-2", "duration": 4, "resolution": "1280x720"},
    )


def case_dispatch(running: shape.Running, jobs: int) -> None:
    """202 → the provider job exists (its id is stored the moment the emulator answers the create call)."""

    async def run() -> list[float]:
        from app.tables import Videos

        _, token = await make_user(f"bench-dispatch-{time.time_ns()}@example.com", credits=100 * jobs)
        latencies = []
        async with httpx.AsyncClient(base_url=running.base, timeout=30) as client:
            for i in range(jobs):
                response = await _generate(client, token, f"Dispatch {i}")
                accepted = time.perf_counter()
                video_id = response.json()["id"]
                while True:
                    row = await Videos.select(Videos.provider_job_id).where(Videos.id == video_id).first()
                    if row["provider_job_id"]:
                        break
                    if time.perf_counter() - accepted > 30:
                        raise RuntimeError(f"video {video_id} never reached the provider")
                    await asyncio.sleep(0.002)
                latencies.append((time.perf_counter() - accepted) * 1000)
                await asyncio.sleep(0.02)  # one request at a time, as a person clicks
        return latencies

    latencies = run_async(run())
    record(
        Row(
            running.name,
            f"dispatch: 202 → provider job ({jobs} jobs), p50",
            statistics.median(latencies),
            "ms",
            goal="p50 ≤ 50 ms",
            detail=f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms",
        )
    )


class _Watcher(asyncio.Protocol):
    """One SSE connection read at the socket: it notes when its first and second `data:` lines arrive.

    Deliberately not an HTTP client library: a thousand streams parsed in this one Python process would
    queue behind each other on the client's CPU and add that queue to every latency. Real watchers are a
    thousand separate browsers; the figure is meant to be the server's fan-out.
    """

    def __init__(self, request: bytes, on_first, on_second) -> None:
        self.request, self.on_first, self.on_second = request, on_first, on_second
        self.seen = 0
        self.partial = b""

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                self.seen += 1
                if self.seen == 1:
                    self.on_first()
                elif self.seen == 2:
                    self.on_second(arrived)


def case_fanout(running: shape.Running, watchers: int) -> None:
    """`watchers` SSE streams of one video; one published step must reach every one of them."""
    from app.tables import VideoEvents

    async def run() -> tuple[list[float], float, int]:
        from app.videos import progress

        user_id, token = await make_user(f"bench-fanout-{time.time_ns()}@example.com", credits=0)
        video_id = (await add_videos(user_id, 1, status="processing"))[0]
        host, port = running.base.removeprefix("http://").rsplit(":", 1)
        request = (
            f"GET /api/v1/videos/{video_id}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        arrived: list[float] = []
        ready = 0
        sent_at = 0.0

        def on_first() -> None:
            nonlocal ready
            ready += 1

        def on_second(at: float) -> None:
            if sent_at:
                arrived.append((at - sent_at) * 1000)

        loop = asyncio.get_running_loop()
        opening = time.perf_counter()
        connections = await asyncio.gather(
            *(
                loop.create_connection(lambda: _Watcher(request, on_first, on_second), host, int(port))
                for _ in range(watchers)
            )
        )
        while ready < watchers and time.perf_counter() - opening < 120:
            await asyncio.sleep(0.05)
        opened = time.perf_counter() - opening
        rss = web_rss_mb(running)
        event = VideoEvents(video=video_id, step="generating", message="Generating: 60%", progress=60)
        await event.save()
        sent_at = time.perf_counter()
        await progress.publish(
            video_id,
            user_id,
            {
                "video_id": video_id,
                "event_id": event.id,
                "step": "generating",
                "status": "processing",
                "progress": 60,
                "message": "Generating: 60%",
                "done": False,
            },
        )
        while len(arrived) < ready and time.perf_counter() - sent_at < 60:
            await asyncio.sleep(0.01)
        for transport, _ in connections:
            transport.close()
        return arrived, opened, rss

    arrived, opened, rss = run_async(run())
    record(
        Row(
            running.name,
            f"fan-out: one step to {watchers} SSE watchers, p99",
            percentile(arrived, 0.99) if arrived else float("nan"),
            "ms",
            goal="p99 ≤ 250 ms",
            detail=f"reached {len(arrived)}/{watchers}, p50 {percentile(arrived, 0.5):.0f} ms, "
            f"opening took {opened:.1f} s",
        )
    )
    record(Row(running.name, f"web RSS with {watchers} open streams", rss, "MB", goal="≤ 300 MB"))


def web_rss_mb(running: shape.Running) -> float:
    """Resident memory of the web server processes (the Procfile's shell and everything under it)."""
    total = 0
    for process in running.processes[:1]:
        pids = subprocess.run(["sh", "-c", f"pgrep -g {process.pid}"], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if "python" not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                continue
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
    return total / 1024


def case_credits(running: shape.Running, users: int, per_user: int, affordable: int) -> None:
    """`users × per_user` generates at once; each user can afford `affordable`: accepted must equal that."""

    async def run() -> tuple[dict[int, int], float]:
        tokens = [
            (await make_user(f"bench-credits-{i}-{time.time_ns()}@example.com", credits=100 * affordable))[1]
            for i in range(users)
        ]
        statuses: dict[int, int] = {}
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=running.base, timeout=120, limits=limits) as client:
            start = time.perf_counter()
            responses = await asyncio.gather(
                *(_generate(client, token, f"Credits {i}") for token in tokens for i in range(per_user))
            )
            elapsed = time.perf_counter() - start
        for response in responses:
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        return statuses, elapsed

    statuses, elapsed = run_async(run())
    total = users * per_user
    expected = users * affordable
    errors = sum(n for code, n in statuses.items() if code >= 500)
    record(
        Row(
            running.name,
            f"credits: {total} concurrent generates, {users} users",
            total / elapsed,
            "req/s",
            goal=f"{expected} accepted, 0 errors",
            detail=f"accepted {statuses.get(202, 0)} (expected {expected}), statuses {dict(sorted(statuses.items()))}, "
            f"5xx {errors}",
        )
    )


def case_throughput(running: shape.Running, jobs: int) -> None:
    """`jobs` videos through the worker with zero generation time: none lost, none charged twice."""

    async def run() -> tuple[float, int, int]:
        from app.tables import CreditTransactions, Videos

        user_id, token = await make_user(f"bench-jobs-{time.time_ns()}@example.com", credits=100 * jobs)
        async with httpx.AsyncClient(base_url=running.base, timeout=120, limits=httpx.Limits(max_connections=50)) as c:
            start = time.perf_counter()
            responses = await asyncio.gather(*(_generate(c, token, f"Throughput {i}") for i in range(jobs)))
        ids = [r.json()["id"] for r in responses if r.status_code == 202]
        deadline = time.perf_counter() + 600
        while time.perf_counter() < deadline:
            open_ = await Videos.count().where(Videos.id.is_in(ids) & Videos.status.is_in(["pending", "processing"]))
            if open_ == 0:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - start
        completed = await Videos.count().where(Videos.id.is_in(ids) & (Videos.status == "completed"))
        charges = await CreditTransactions.count().where(
            (CreditTransactions.user == user_id) & (CreditTransactions.reason == "generation")
        )
        return len(ids) / elapsed, completed, charges

    rate, completed, charges = run_async(run())
    record(
        Row(
            running.name,
            f"jobs: {jobs} videos through one worker",
            rate,
            "jobs/s",
            goal="≥ 10 jobs/s",
            detail=f"completed {completed}/{jobs}, generation charges {charges}",
        )
    )


def case_finishing() -> None:
    script = shape.ROOT / "benchmarks" / "finishing.py"
    if not script.exists():
        return
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.finishing"],
        cwd=shape.ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(shape.ROOT)},
    )
    for line in out.stdout.strip().splitlines():
        print(f"  finishing   {line}")
    ROWS.append(Row("cpu", "finishing (see lines above)", 0, "", detail=out.stdout.strip()[-300:]))


# --- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs and fewer jobs (a smoke run)")
    parser.add_argument("--json", type=Path, default=shape.ROOT / "benchmarks" / "results.json")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="public signed_in media dispatch fanout credits throughput multiprocess finishing embedded",
    )
    args = parser.parse_args(argv)
    wrk.require()
    seconds = 3 if args.quick else 8
    jobs = 50 if args.quick else 200
    watchers = 200 if args.quick else 1000
    throughput_jobs = 100 if args.quick else 500
    wanted = set(
        args.only
        or [
            "public",
            "signed_in",
            "media",
            "dispatch",
            "fanout",
            "credits",
            "throughput",
            "multiprocess",
            "finishing",
            "embedded",
        ]
    )
    print(f"AdsVideo benchmarks on {os.cpu_count()} cores (loopback; wrk -t1 -c16 {seconds}s per route)")
    print(f"  {'shape':<11} {'case':<42} {'figure':>10} {'unit':<6} {'reference':>10}  {'ratio':>6}  goal")
    tmp = shape.tmpdir()
    with shape.emulator(tmp) as emulator_url, shape.bare_litestar(tmp) as bare:
        production_cases = {"public", "signed_in", "media", "dispatch", "fanout", "credits", "throughput"}
        if wanted & production_cases:
            with shape.production(tmp / "prod", emulator_url) as running:
                bind(running)
                if "public" in wanted:
                    case_public(running, bare, seconds)
                if "signed_in" in wanted:
                    case_signed_in(running, bare, seconds)
                if "media" in wanted:
                    case_media(running, tmp, seconds)
                if "dispatch" in wanted:
                    case_dispatch(running, jobs)
                if "fanout" in wanted:
                    case_fanout(running, watchers)
                if "credits" in wanted:
                    case_credits(running, 50, 10, 3)
                if "throughput" in wanted:
                    case_throughput(running, throughput_jobs)
        cores = os.cpu_count() or 1
        if "multiprocess" in wanted and cores > 1:
            with shape.production(tmp / "multi", emulator_url, web_concurrency=cores) as running:
                running.name = f"prod ×{cores}"
                bind(running)
                case_public(running, bare, seconds)
                case_fanout(running, watchers)
        if "embedded" in wanted:
            with shape.embedded(tmp / "embedded", emulator_url) as running:
                bind(running)
                case_public(running, bare, seconds)
                case_signed_in(running, bare, seconds)
                case_media(running, tmp, seconds)
                case_dispatch(running, max(20, jobs // 4))
    if "finishing" in wanted:
        case_finishing()
    args.json.write_text(json.dumps({"cores": os.cpu_count(), "rows": [asdict(r) for r in ROWS]}, indent=2))
    print(f"Written to {args.json}")


if __name__ == "__main__":
    main()
