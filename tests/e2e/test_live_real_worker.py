"""The production shape, for real: web process A takes the request and enqueues it on Redis, a separate
`dramatiq tasks` worker process runs the job against the OpenAI emulator, and web process B — which never
saw the request — streams every step to the browser's session and ends with the player."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app import db
from app.accounts import tokens
from app.accounts import users as users_service
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.conftest import start_server, start_worker, stop_process_group, stop_server
from tests.e2e.sse import EventReader, sign_in
from tests.emulators import run_openai_emulator
from tests.jobs_support import STEPS, distinct_steps, steps_of
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis


@pytest.fixture
def production_shape(tmp_path, monkeypatch):
    require("redis")
    with run_openai_emulator(generation_seconds=2.0) as emulator:
        shared = {
            "REDIS_URL": REDIS_URL,
            "REDIS_CHANNEL_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
            "DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "USE_MOCK_SORA": "true",
            "OPENAI_BASE_URL": emulator,
            "JOB_POLL_INTERVAL_SECONDS": "0.1",
        }
        (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
        first = start_server(tmp_path / "a", **shared)
        second = start_server(tmp_path / "b", **shared)
        env = {**first.env, **shared}
        worker = start_worker(env, tmp_path / "worker.log")
        for name, value in shared.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        db.bind_engine(db.make_engine(shared["DATABASE_URL"]))
        try:
            yield first, second
        finally:
            stop_process_group(worker)
            stop_server(second)
            stop_server(first)
            get_settings.cache_clear()


def test_a_job_enqueued_by_one_web_process_is_streamed_live_by_another(production_shape):
    first, second = production_shape
    email = f"cross-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=first.url, timeout=30) as page_client:
        sign_in(page_client, email)
        cookies = dict(page_client.cookies)
    first.cli("set-plan", email, "basic")
    user = run_blocking(users_service.get_user_by_email(email))
    token = run_blocking(tokens.issue_pair(user.id)).access_token

    body = {
        "prompt": f"A ceramic mug on a marble table {uuid.uuid4().hex[:6]}",
        "model": "sora-2",
        "duration": 4,
        "resolution": "1280x720",
    }
    created = httpx.post(
        f"{first.url}/api/v1/videos/generate", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert created.status_code == 202, created.text
    video_id = created.json()["id"]

    seen: list[str] = []
    with httpx.Client(base_url=second.url, cookies=cookies, timeout=60) as other:
        with other.stream("GET", f"/videos/{video_id}/events") as response:
            assert response.status_code == 200
            events = EventReader(response)
            while (event := events.next()) is not None:
                seen.append(event.event)
                if event.event == "done":
                    assert f'id="video-player-{video_id}"' in event.data
                    break
    assert seen[-1] == "done" and seen.count("progress") >= 1
    assert distinct_steps(run_blocking(steps_of(video_id))) == STEPS  # the worker recorded all seven, in order
