"""Operations in the production shape: a web process and a real worker process (`python -m app worker`, which
runs `dramatiq tasks`) on Redis, sharing one Prometheus multiprocess directory, logging JSON lines.

One generation is followed from the click to the file through both processes' logs by its request id;
`/metrics` (read with the Prometheus client's parser) shows exactly what happened in both processes;
nothing secret or personal is in the output. Then unhandled errors in a page, an API call and a job
each reach a local Sentry receiver once, tagged with their request id.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from app import db
from app.accounts import tokens
from app.accounts import users as users_service
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.conftest import free_port, start_server, start_worker, stop_process_group, stop_server
from tests.e2e.sse import EventReader, sign_in
from tests.emulators import run_openai_emulator
from tests.jobs_support import distinct_steps
from tests.ops_support import SentryReceiver, json_lines, samples, total, value
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis

SECRET_KEY = "ops-test-secret-key-7f3a9c1e5b2d4a6f8e0c"
JWT_SECRET_KEY = "ops-test-jwt-secret-2b4d6f8a0c1e3a5b7d9f"
STEPS = ["preparing", "submitting", "waiting", "generating", "downloading"]


class Shape:
    """A web process, a worker process started on demand, their logs and their shared settings."""

    def __init__(self, tmp: Path, **extra: str) -> None:
        require("redis")
        self.tmp = tmp
        self.metrics_dir = tmp / "metrics"
        self.metrics_dir.mkdir(parents=True)
        self.shared = {
            "REDIS_URL": REDIS_URL,
            "REDIS_CHANNEL_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
            "DATABASE_URL": f"sqlite:///{tmp}/shared.db",
            "MEDIA_ROOT": str(tmp / "media"),
            "USE_MOCK_SORA": "true",
            "JOB_POLL_INTERVAL_SECONDS": "0.1",
            "LOG_FORMAT": "json",
            "SECRET_KEY": SECRET_KEY,
            "JWT_SECRET_KEY": JWT_SECRET_KEY,
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            **extra,
        }
        (tmp / "web").mkdir()
        self.web = start_server(tmp / "web", **self.shared)
        self.worker: subprocess.Popen | None = None
        self.worker_log = tmp / "worker.log"

    def start_worker(self) -> None:
        env = {**self.web.env, **self.shared}
        self.worker = start_worker(env, self.worker_log, command="app")

    def stop(self) -> None:
        if self.worker is not None:
            stop_process_group(self.worker)
        if self.web.process.poll() is None:
            stop_server(self.web)


@pytest.fixture
def shape_factory(tmp_path, monkeypatch):
    shapes: list[Shape] = []

    def make(**extra: str) -> Shape:
        shape = Shape(tmp_path / f"shape{len(shapes)}", **extra)
        shapes.append(shape)
        for name, setting in shape.shared.items():
            monkeypatch.setenv(name, setting)
        get_settings.cache_clear()
        db.bind_engine(db.make_engine(shape.shared["DATABASE_URL"]))
        return shape

    yield make
    for shape in shapes:
        shape.stop()
    get_settings.cache_clear()


def signed_in_user(shape: Shape) -> tuple[str, dict, dict, object]:
    """A new user signed in through the page flow, on the basic plan: (email, cookies, API headers, tokens)."""
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=shape.web.url, timeout=30) as client:
        sign_in(client, email)
        cookies = dict(client.cookies)
    shape.web.cli("set-plan", email, "basic")
    user = run_blocking(users_service.get_user_by_email(email))
    pair = run_blocking(tokens.issue_pair(user.id))
    return email, cookies, {"Authorization": f"Bearer {pair.access_token}"}, (user, pair)


def scrape(shape: Shape) -> dict:
    response = httpx.get(f"{shape.web.url}/metrics", timeout=10)
    assert response.status_code == 200
    return samples(response.text)


def test_one_generation_followed_through_json_logs_and_metrics_of_both_processes(shape_factory):
    with run_openai_emulator(generation_seconds=1.0) as emulator:
        worker_metrics = free_port()
        shape = shape_factory(OPENAI_BASE_URL=emulator, WORKER_METRICS_PORT=str(worker_metrics))
        shape.start_worker()
        email, cookies, headers, (user, pair) = signed_in_user(shape)
        request_id = f"click-{uuid.uuid4().hex[:12]}"
        body = {
            "prompt": f"A ceramic mug on a marble table {uuid.uuid4().hex[:6]}",
            "model": "sora-2",
            "duration": 4,
            "resolution": "1280x720",
        }
        created = httpx.post(
            f"{shape.web.url}/api/v1/videos/generate",
            json=body,
            headers={**headers, "X-Request-ID": request_id},
            timeout=30,
        )
        assert created.status_code == 202, created.text
        assert created.headers["x-request-id"] == request_id
        video_id, charged = created.json()["id"], created.json()["credits_charged"]

        open_streams = None
        with httpx.Client(base_url=shape.web.url, headers=headers, timeout=60) as client:
            with client.stream("GET", f"/api/v1/videos/{video_id}/events") as response:
                events = EventReader(response)
                while (event := events.next()) is not None:
                    if open_streams is None:
                        open_streams = value(scrape(shape), "adsvideo_sse_streams_open", kind="api")
                    if event.event == "done":
                        assert event.json()["status"] == "completed", event.data
                        break
        assert open_streams == 1
        # The worker counts the job just after the actor returns, which may be just after the last event.
        deadline = time.monotonic() + 30
        while (
            (after := scrape(shape))
            and time.monotonic() < deadline
            and total(after, "adsvideo_jobs_total", actor="generate_video") < 1
        ):
            time.sleep(0.1)
        # The worker serves the same figures itself (for a worker on a host of its own), on loopback.
        from_worker = samples(httpx.get(f"http://127.0.0.1:{worker_metrics}/metrics", timeout=10).text)
        shape.stop()

    assert value(from_worker, "adsvideo_jobs_total", actor="generate_video", outcome="succeeded") == 1
    # Metrics: both processes' files, summed by one scrape of the web process.
    assert value(after, "adsvideo_jobs_total", actor="generate_video", outcome="succeeded") == 1
    assert total(after, "adsvideo_jobs_total", outcome="failed") == 0
    assert value(after, "adsvideo_job_duration_seconds_count", actor="generate_video", outcome="succeeded") == 1
    assert value(after, "adsvideo_generations_total", provider="openai", model="sora-2", status="completed") == 1
    assert (
        value(
            after, "adsvideo_provider_calls_total", provider="openai", model="sora-2", operation="submit", outcome="ok"
        )
        == 1
    )
    assert total(after, "adsvideo_provider_calls_total", outcome="ok", operation="download") == 2
    assert value(after, "adsvideo_credits_charged_total") == charged == 100
    assert value(after, "adsvideo_credits_refunded_total") == 0
    assert (
        value(after, "adsvideo_http_requests_total", method="POST", route="/api/v1/videos/generate", status="202") == 1
    )
    assert value(after, "adsvideo_sse_streams_open", kind="api") == 0
    assert value(after, "adsvideo_videos_waiting") == 0

    # Logs: every line of both processes is one JSON object.
    web_lines = json_lines(shape.web.log)
    worker_lines = json_lines(shape.worker_log)
    assert web_lines and worker_lines
    clicked = [r for r in web_lines if r.get("request_id") == request_id]
    assert {r["event"] for r in clicked} >= {"request", f"video {video_id}: queued"}
    assert all(r.get("user_id") == user.id for r in clicked)
    request_line = next(r for r in clicked if r["event"] == "request")
    assert (request_line["method"], request_line["route"], request_line["status"]) == (
        "POST",
        "/api/v1/videos/generate",
        202,
    )
    followed = [r for r in worker_lines if r.get("request_id") == request_id]
    assert followed, "the worker's lines do not carry the request id"
    assert all(r.get("user_id") == user.id for r in followed)
    # The generation's lines name its video; jobs it enqueued (the email saying it is ready) carry the id too.
    generation = [r for r in followed if r.get("job") == "generate_video"]
    assert all(r.get("video_id") == video_id for r in generation)
    assert distinct_steps([r["step"] for r in generation if "step" in r]) == STEPS
    assert any(r["event"] == f"video {video_id}: completed" for r in generation)
    assert any(r["event"] == "job succeeded" and r.get("actor") == "generate_video" for r in generation)

    # Nothing secret or personal anywhere in the output.
    output = shape.web.log.read_text() + shape.worker_log.read_text()
    session_cookie = next(v for k, v in cookies.items() if k != "csrftoken")
    for secret in (
        email,
        pair.access_token,
        pair.refresh_token,
        session_cookie,
        cookies.get("csrftoken"),
        SECRET_KEY,
        JWT_SECRET_KEY,
    ):
        assert secret and secret not in output
    assert "@example.com" not in output


def _break_videos_table(database_url: str) -> None:
    """What a bad migration would do: the videos table is gone, every query on it fails."""
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
        conn.execute("ALTER TABLE videos RENAME TO videos_gone")


def test_unhandled_errors_in_a_page_an_api_call_and_a_job_each_reach_sentry_once(shape_factory):
    with SentryReceiver() as sentry:
        shape = shape_factory(SENTRY_DSN=sentry.dsn, SENTRY_ENVIRONMENT="ci", SENTRY_RELEASE="adsvideo@test")
        email, cookies, headers, (user, _) = signed_in_user(shape)
        ids = {kind: f"{kind}-{uuid.uuid4().hex[:10]}" for kind in ("page", "api", "job")}
        body = {"prompt": "A red sneaker on a beach", "model": "sora-2", "duration": 4, "resolution": "1280x720"}
        queued = httpx.post(
            f"{shape.web.url}/api/v1/videos/generate",
            json=body,
            headers={**headers, "X-Request-ID": ids["job"]},
            timeout=30,
        )
        assert queued.status_code == 202, queued.text  # waiting on Redis: no worker runs yet
        _break_videos_table(shape.shared["DATABASE_URL"])

        page = httpx.get(f"{shape.web.url}/videos", cookies=cookies, headers={"X-Request-ID": ids["page"]})
        assert page.status_code == 500 and "Something went wrong" in page.text
        api = httpx.get(f"{shape.web.url}/api/v1/videos", headers={**headers, "X-Request-ID": ids["api"]})
        assert api.status_code == 500 and api.json()["code"] == "internal_error"
        shape.start_worker()  # picks the job up; it fails on the missing table

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            tagged = {e.get("tags", {}).get("request_id") for e in sentry.snapshot()}
            if set(ids.values()) <= tagged:
                break
            time.sleep(0.2)
        shape.stop()  # both processes flush what they still hold
        events = sentry.snapshot()

    by_request = {kind: [e for e in events if e.get("tags", {}).get("request_id") == rid] for kind, rid in ids.items()}
    assert {kind: len(found) for kind, found in by_request.items()} == {"page": 1, "api": 1, "job": 1}, [
        (e.get("tags"), e.get("logger"), e.get("transaction")) for e in events
    ]
    for (event,) in by_request.values():
        assert event["environment"] == "ci" and event["release"] == "adsvideo@test"
        assert event["user"] == {"id": str(user.id)}
        assert "no such table: videos" in json.dumps(event["exception"])
        dumped = json.dumps(event)
        assert email not in dumped and "@example.com" not in dumped
        assert headers["Authorization"].split()[1] not in dumped
        assert all(v not in dumped for v in cookies.values())
    job_event = by_request["job"][0]
    assert job_event["tags"].get("video_id") == str(queued.json()["id"])
