"""Redis going away is not an outage: a Redis server of the test's own is stopped and restarted for real
under an open live stream, page loads and API calls, and the app recovers by itself."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid

import httpx
import pytest
import redis

from app import db
from app.accounts import tokens
from app.accounts import users as users_service
from app.config import get_settings
from tests.billing_factories import make_video
from tests.conftest import run_blocking
from tests.e2e.conftest import free_port, start_server, stop_server
from tests.e2e.sse import EventReader, sign_in
from tests.live_steps import step
from tests.services import IN_CI

pytestmark = pytest.mark.redis


class OwnRedis:
    """redis-server on a port of its own, saving to `folder` when stopped so a restart finds the data."""

    def __init__(self, folder) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        try:
            redis.Redis(port=self.port).shutdown(save=True)
        except redis.ConnectionError:
            pass  # it closes the connection as it exits
        assert self.process is not None
        self.process.wait(timeout=10)


@pytest.fixture
def outage(tmp_path, monkeypatch):
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is needed")
        pytest.skip("redis-server is not installed")
    own = OwnRedis(tmp_path)
    own.start()
    shared = {"REDIS_URL": own.url, "DATABASE_URL": f"sqlite:///{tmp_path}/app.db", "MEDIA_ROOT": str(tmp_path / "m")}
    server = start_server(tmp_path, **shared)
    for name, value in shared.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    db.bind_engine(db.make_engine(shared["DATABASE_URL"]))
    try:
        yield own, server
    finally:
        stop_server(server)
        if own.process and own.process.poll() is None:
            own.process.terminate()
            own.process.wait(timeout=10)
        get_settings.cache_clear()


def wait_for(condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_app_keeps_working_through_a_redis_outage_and_recovers(outage):
    own, server = outage
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    page = httpx.Client(base_url=server.url, timeout=15)
    sign_in(page, email)
    server.cli("set-plan", email, "pro")
    user = run_blocking(users_service.get_user_by_email(email))
    token = run_blocking(tokens.issue_pair(user.id)).access_token
    bearer = {"Authorization": f"Bearer {token}"}
    video_id = run_blocking(make_video(user.id))

    # A live stream opened before the outage, read on its own thread.
    seen: list[str] = []
    stream_client = httpx.Client(base_url=server.url, cookies=dict(page.cookies), timeout=120)

    def read_stream() -> None:
        with stream_client.stream("GET", f"/videos/{video_id}/events") as response:
            reader = EventReader(response)
            while (event := reader.next()) is not None:
                seen.append(event.data)
                if "Outage step" in event.data:
                    return

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    wait_for(lambda: bool(seen), what="the stream's first event")

    own.stop()
    anonymous = httpx.Client(base_url=server.url, timeout=15)
    started = time.monotonic()
    assert anonymous.get("/healthz").status_code == 200
    healthz_seconds = time.monotonic() - started
    ready = anonymous.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["redis"].startswith("error")
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/api/v1/showcase/videos").status_code == 200
    me = anonymous.get("/api/v1/auth/me", headers=bearer)
    assert me.status_code == 200 and me.json()["email"] == email
    assert anonymous.get(f"/api/v1/videos/{video_id}", headers=bearer).status_code == 200
    signed_in_page = page.get("/videos")
    assert signed_in_page.status_code == 503
    assert "unavailable for a moment" in signed_in_page.text
    assert page.get("/auth/login", params={"login_hint": email}).status_code == 503
    # Progress recorded while Redis is away (its publish fails quietly).
    run_blocking(step(video_id, "preparing", 5, "Outage step"))

    own.start()
    wait_for(lambda: anonymous.get("/readyz").status_code == 200, what="/readyz to recover")
    wait_for(lambda: page.get("/videos").status_code == 200, what="the signed-in page to recover")
    reader.join(timeout=30)
    assert any("Outage step" in data for data in seen), seen
    print(f"/healthz with Redis down answered in {healthz_seconds * 1000:.0f} ms")
    for client in (page, stream_client, anonymous):
        client.close()
