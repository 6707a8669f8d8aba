"""A pair of live web processes sharing a database and Redis, and the test playing their worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from app import db
from app.accounts import users as users_service
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.sse import sign_in
from tests.live_steps import step
from tests.services import REDIS_URL, require

SHOWCASE_MP4 = "/media/public/showcase/run-lighter.mp4"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two web processes sharing one database and one Redis (with a channel prefix of their own)."""
    require("redis")
    root = tmp_path_factory.mktemp("live-cluster")
    shared = {
        "REDIS_URL": REDIS_URL,
        "REDIS_CHANNEL_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
        "DATABASE_URL": f"sqlite:///{root}/shared.db",
        "MEDIA_ROOT": str(root / "media"),
    }
    first_dir, second_dir = root / "a", root / "b"
    first_dir.mkdir(), second_dir.mkdir()
    first = start_server(first_dir, **shared)
    try:
        second = start_server(second_dir, **shared)
    except Exception:
        stop_server(first)
        raise
    yield first, second, shared
    stop_server(second)
    stop_server(first)


@pytest.fixture
def worker(cluster, monkeypatch):
    """Run coroutines against the cluster's database and Redis, as its worker process would."""
    _, _, shared = cluster
    for name, value in shared.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    db.bind_engine(db.make_engine(shared["DATABASE_URL"]))
    yield run_blocking
    get_settings.cache_clear()


@contextmanager
def signed_in(server, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        sign_in(client, email)
        yield client


def user_id(worker, email: str) -> int:
    return worker(users_service.get_user_by_email(email)).id


async def complete(video_id: int) -> int:
    """The last step of a successful job (the video file is a seeded showcase clip)."""
    from app.tables import Videos

    await Videos.update({Videos.video_url: SHOWCASE_MP4}).where(Videos.id == video_id)
    return await step(video_id, "completed", 100)


def new_email() -> str:
    return f"live-{uuid.uuid4().hex[:8]}@example.com"
