"""A worker killed with SIGKILL in the middle of a job: real processes, killed for real.

The job must end completed once a worker runs again, with one provider job and one debit —
with the Redis broker (`dramatiq tasks`, the Procfile's worker) and with the embedded worker
inside the web process (`uvicorn app.asgi:create_app`, REDIS_URL unset).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import httpx
import pytest
import redis

from app.config import ROOT
from app.tables import Videos
from app.videos import service as videos_service
from tests.brokers import switch_broker, use_broker
from tests.e2e.conftest import stop_process_group
from tests.emulators import run_openai_emulator
from tests.jobs_support import (
    STEPS,
    api_user,
    distinct_steps,
    ledger_of,
    provider_jobs,
    steps_of,
    unique_prompt,
    wait_for,
    wait_for_final,
)
from tests.services import REDIS_URL, require


@pytest.fixture(scope="module")
def slow_emulator():
    """An emulator whose generations take a few seconds, so there is time to kill a worker mid-job."""
    with run_openai_emulator(generation_seconds=4.0) as base_url:
        yield base_url


def _env(settings, emulator: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PUBLIC_URL")}
    env.update(
        ADSVIDEO_ENV_FILE="",
        APP_ENV="test",
        DATABASE_URL=settings.database_url,
        MEDIA_ROOT=str(settings.media_root),
        USE_MOCK_SORA="true",
        OPENAI_BASE_URL=emulator,
        JOB_POLL_INTERVAL_SECONDS="0.05",
        JOB_RETRY_BACKOFF_SECONDS="0.05",
        JOB_STALE_SECONDS="6",  # above a submit's worst time on a loaded machine: the reconciler must not take over a live one
        RECONCILE_INTERVAL_SECONDS="0.3",
        **extra,
    )
    return env


@contextmanager
def _process(args: list[str], env: dict[str, str], log_path):
    """A child process in its own process group (so SIGKILL reaches every process it forks)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        stop_process_group(proc)


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


async def _mid_generation(video_id: int) -> Videos:
    async def generating():
        row = await Videos.objects().where(Videos.id == video_id).first()
        return row if row.step == "generating" and row.provider_job_id else None

    return await wait_for(generating, timeout=90, what="the job to be generating")


async def _assert_resumed(video_id: int, job_id: str, emulator: str, prompt: str) -> None:
    video = await wait_for_final(video_id, timeout=120)
    assert video.status == "completed", video.error_message
    assert video.provider_job_id == job_id
    assert [j.id for j in provider_jobs(emulator, prompt)] == [job_id]
    assert await ledger_of(video_id) == [("generation", -100, 1)]
    steps = await steps_of(video_id)
    assert distinct_steps(steps) == STEPS
    assert steps.count("submitting") == 1 and steps.count("completed") == 1


@pytest.mark.redis
async def test_a_dramatiq_worker_killed_mid_job_is_resumed_by_the_next_worker(settings, slow_emulator, tmp_path):
    require("redis")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = _env(settings, slow_emulator, REDIS_URL=REDIS_URL, REDIS_CHANNEL_PREFIX=f"t{uuid.uuid4().hex[:8]}:")
    worker_cmd = [sys.executable, "-m", "dramatiq", "tasks", "--processes", "1", "--threads", "2"]
    switch_broker(REDIS_URL)
    try:
        user, _ = await api_user()
        prompt = unique_prompt("Running shoes on wet asphalt")
        with _process(worker_cmd, env, tmp_path / "worker1.log") as first:
            video, _ = await videos_service.create_video(
                user, prompt=prompt, model="sora-2", duration=4, resolution="1280x720"
            )
            running = await _mid_generation(video.id)
            _kill(first)
        assert (await Videos.objects().where(Videos.id == video.id).first()).status == "processing"
        with _process(worker_cmd, env, tmp_path / "worker2.log"):
            await _assert_resumed(video.id, running.provider_job_id, slow_emulator, prompt)
    finally:
        switch_broker(None)
        # The killed worker's message is still unacknowledged in Redis; leave the database clean for others.
        redis.Redis.from_url(REDIS_URL).flushdb()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the web process exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the web process did not start")


async def test_a_web_process_killed_mid_job_resumes_it_in_its_embedded_worker(settings, slow_emulator, tmp_path):
    """Embedded default: the in-process worker dies with the web process; the restarted one finishes the job."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(settings, slow_emulator, PORT=str(port))
    server_cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.asgi:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    user, headers = await api_user()
    prompt = unique_prompt("A backpack on a mountain top")
    with _process(server_cmd, env, tmp_path / "web1.log") as first:
        _wait_until_serving(base, first)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            response = await http.post(
                "/api/v1/videos/generate",
                headers=headers,
                json={"prompt": prompt, "model": "sora-2", "duration": 4, "resolution": "1280x720"},
            )
        assert response.status_code == 202, response.text
        video_id = response.json()["id"]
        running = await _mid_generation(video_id)
        _kill(first)
    assert (await Videos.objects().where(Videos.id == video_id).first()).status == "processing"
    with _process(server_cmd, env, tmp_path / "web2.log") as second:
        _wait_until_serving(base, second)
        await _assert_resumed(video_id, running.provider_job_id, slow_emulator, prompt)
