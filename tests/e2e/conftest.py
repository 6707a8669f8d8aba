"""Browser tests: the real app under uvicorn in a subprocess, driven by Playwright on the system Chromium.

`live_server` is one server for the session (SQLite, embedded worker, emulators, quick seed data);
each test signs in as its own made-up user so tests don't share state.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import ROOT
from tests.services import CHROMIUM, require

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen
    log: Path

    def cli(self, *args: str) -> str:
        """Run `python -m app <args>` against this server's database and media."""
        done = subprocess.run(
            [sys.executable, "-m", "app", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout


def start_server(tmp: Path, **overrides: str) -> LiveServer:
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp}/live.db",
        "MEDIA_ROOT": str(tmp / "media"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MOCK_GENERATION_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }
    env.pop("REDIS_URL", None) if "REDIS_URL" not in overrides else None
    for command in (["migrate"], ["seed", "--quick"]):
        subprocess.run([sys.executable, "-m", "app", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded CI machine can take a while to import the app
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url=url, env=env, process=process, log=log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def start_worker(env: dict[str, str], log: Path, *, threads: int = 2, command: str = "dramatiq") -> subprocess.Popen:
    """A job worker process in its own process group: `dramatiq tasks` or the app's `worker` command."""
    entry = ["dramatiq", "tasks"] if command == "dramatiq" else ["app", "worker"]
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *entry, "--processes", "1", "--threads", str(threads), "--worker-shutdown-timeout",
             "5000"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop_process_group(worker: subprocess.Popen) -> None:
    """SIGTERM to a process's group (a worker hands back its jobs), then SIGKILL if it is still there after 20 s."""
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def browser():
    """Per module: Playwright's sync API keeps an event loop running while it is open, which would
    break every async test collected after it."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
