"""Start the app the way it runs: the production shape (the Procfile's own lines on PostgreSQL and Redis,
a separate worker) or the embedded default (`python -m app serve`: SQLite, in-process worker), each
beside the OpenAI Videos emulator with zero generation time. Loopback only; everything stops at the end."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile() -> dict[str, str]:
    """The Procfile's process lines by name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith("#"))


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Running:
    """A started app: its base URL, its environment, and the processes to stop."""

    name: str
    base: str
    env: dict[str, str]
    media_root: Path
    web_pids: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)


def _start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["sh", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever of it is left (forked workers included):
    a survivor would go on consuming the next run's Redis queue."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@contextmanager
def _serving(running: Running):
    """`running` once its /healthz answers; its processes stopped afterwards, whatever happened."""
    try:
        wait_until_up(f"{running.base}/healthz")
        yield running
    finally:
        for process in running.processes:
            _stop(process)


async def _create_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@contextmanager
def emulator(tmp: Path):
    """The OpenAI Videos emulator on its own port: zero generation time, one render per size and length."""
    port = free_port()
    process = _start(
        f"{shlex.quote(sys.executable)} -m app.emulators.openai_videos --port {port} "
        f"--generation-seconds 0 --reuse-renders --storage-dir {tmp / 'emulator'}",
        {**os.environ, "PYTHONPATH": str(ROOT)},
        tmp / "emulator.log",
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(f"{base}/videos")
        yield base
    finally:
        _stop(process)


def _base_env(tmp: Path, emulator_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REDIS_", "DATABASE_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        PYTHONPATH=str(ROOT),
        APP_ENV="development",
        ADSVIDEO_ENV_FILE="",
        MEDIA_ROOT=str(tmp / "media"),
        OPENAI_BASE_URL=emulator_url,
        OPENAI_API_KEY="sk-bench",
        JOB_POLL_INTERVAL_SECONDS="0.05",
        MOCK_GENERATION_SECONDS="0",
        LOG_LEVEL="WARNING",
        # The cases drive far more than a person would: the limits that protect production stay out of the way.
        RATE_LIMIT_SIGN_IN="100000/minute",
        RATE_LIMIT_GENERATE="100000/minute",
        MAX_QUEUED_JOBS_PER_USER="1000",
        MAX_JOBS_IN_FLIGHT_BASIC="1000",
        MAX_JOBS_IN_FLIGHT_PRO="1000",
        MAX_OPEN_STREAMS_PER_USER="2000",
    )
    return env


@contextmanager
def production(tmp: Path, emulator_url: str, *, web_concurrency: int = 1, worker: bool = True):
    """release, web and worker from the Procfile, on PostgreSQL and Redis."""
    import redis

    tmp.mkdir(parents=True, exist_ok=True)
    database = f"adsvideo_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_create_database(database))
    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    env = _base_env(tmp, emulator_url)
    env.update(
        DATABASE_URL=POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}",
        REDIS_URL=REDIS_URL,
        PORT=str(port),
        WEB_CONCURRENCY=str(web_concurrency),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    lines = procfile()
    subprocess.run(["sh", "-c", lines["release"]], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "app", "seed", "--quick"], cwd=ROOT, env=env, check=True, capture_output=True)
    running = Running("production", f"http://127.0.0.1:{port}", env, tmp / "media")
    running.processes.append(_start(lines["web"].strip(), env, tmp / "web.log"))
    if worker:
        running.processes.append(_start(lines["worker"].strip(), env, tmp / "worker.log"))
    with _serving(running):
        yield running


@contextmanager
def embedded(tmp: Path, emulator_url: str):
    """`python -m app serve`: SQLite and the in-process worker, as `make run` starts it."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _base_env(tmp, emulator_url)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp}/bench.db",
        PORT=str(port),
        HOST="127.0.0.1",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    for command in (["migrate"], ["seed", "--quick"]):
        subprocess.run([sys.executable, "-m", "app", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    running = Running("embedded", f"http://127.0.0.1:{port}", env, tmp / "media")
    running.processes.append(_start(f"{shlex.quote(sys.executable)} -m app serve", env, tmp / "web.log"))
    with _serving(running):
        yield running


@contextmanager
def bare_litestar(tmp: Path):
    """The reference app under the web line's uvicorn settings."""
    port = free_port()
    process = _start(
        f"{shlex.quote(sys.executable)} -m uvicorn --factory benchmarks.bare_app:create_app "
        f"--host 127.0.0.1 --port {port} --log-level warning --no-access-log",
        {**os.environ, "PYTHONPATH": str(ROOT)},
        tmp / "bare.log",
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/plain")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def nginx(root: Path, tmp: Path):
    """nginx (Debian's package) serving `root` on loopback: the ceiling for static media."""
    import shutil

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("The media case needs nginx: apt-get install nginx")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1; daemon off;{" user root;" if os.geteuid() == 0 else ""} pid {tmp}/nginx.pid; error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path {tmp}/nginx-body; proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fcgi; uwsgi_temp_path {tmp}/nginx-uwsgi; scgi_temp_path {tmp}/nginx-scgi;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    process = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="adsvideo-bench-"))
