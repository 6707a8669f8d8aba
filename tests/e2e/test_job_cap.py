"""30 parallel generates from one Pro user in the production shape (web process, Redis, a dramatiq worker
with more threads than the cap): never more provider jobs in flight than the plan's cap, the rest wait
visibly and start as slots free, every video finishes, and the ledger is exact."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app import db
from app.accounts import tokens
from app.billing import charges
from app.config import get_settings
from app.tables import VideoEvents, Videos
from app.videos import slots
from tests.billing_factories import balance, make_user
from tests.conftest import run_blocking
from tests.e2e.conftest import start_server, start_worker, stop_process_group, stop_server
from tests.emulators import run_openai_emulator
from tests.jobs_support import slots_held
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis

CAP = 4  # the Pro default
REQUESTS = 30
IN_FLIGHT_STEPS = ["preparing", "submitting", "waiting", "generating", "downloading"]


@pytest.fixture
def production_shape(tmp_path, monkeypatch):
    require("redis")
    with run_openai_emulator(generation_seconds=1.0) as emulator:
        shared = {
            "REDIS_URL": REDIS_URL,
            "REDIS_CHANNEL_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
            "DATABASE_URL": f"sqlite:///{tmp_path}/shared.db",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "USE_MOCK_SORA": "true",
            "OPENAI_BASE_URL": emulator,
            "JOB_POLL_INTERVAL_SECONDS": "0.1",
            "MAX_QUEUED_JOBS_PER_USER": "50",
        }
        server = start_server(tmp_path, **shared)
        worker = start_worker({**server.env, **shared}, tmp_path / "worker.log", threads=10)
        for name, value in shared.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        db.bind_engine(db.make_engine(shared["DATABASE_URL"]))
        try:
            yield server
        finally:
            stop_process_group(worker)
            stop_server(server)
            get_settings.cache_clear()


async def _in_flight(user_id: int) -> tuple[int, int]:
    steps = await Videos.count().where(
        (Videos.user == user_id) & (Videos.status == "processing") & Videos.step.is_in(IN_FLIGHT_STEPS)
    )
    return steps, await slots.in_flight(user_id)


async def _videos(user_id: int) -> list[dict]:
    return await Videos.select(Videos.status, Videos.credits_charged).where(Videos.user == user_id)


async def _waited() -> int:
    return await VideoEvents.count().where(VideoEvents.message.like("Waiting for a free slot%"))


async def _finished(user_id: int) -> int:
    return await Videos.count().where((Videos.user == user_id) & Videos.status.is_in(["completed", "failed"]))


@pytest.mark.timeout(1200)
def test_thirty_parallel_generates_never_exceed_the_cap_and_all_finish(production_shape):
    server = production_shape
    user = run_blocking(make_user(credits=10_000, plan="pro"))
    start_balance = run_blocking(balance(user.id))
    token = run_blocking(tokens.issue_pair(user.id)).access_token

    def generate(n: int) -> httpx.Response:
        # One prompt for all: the emulator renders the clip once and the test spends its time on the cap.
        body = {"prompt": "A ceramic mug on a marble table", "model": "sora-2", "duration": 4, "resolution": "1280x720"}
        return httpx.post(
            f"{server.url}/api/v1/videos/generate", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        answers = list(pool.map(generate, range(REQUESTS)))
    assert [r.status_code for r in answers] == [202] * REQUESTS, [r.text for r in answers if r.status_code != 202]

    most_steps = most_slots = 0
    deadline = time.monotonic() + 900
    while run_blocking(_finished(user.id)) < REQUESTS:
        assert time.monotonic() < deadline, "not every video finished"
        steps, held = run_blocking(_in_flight(user.id))
        most_steps, most_slots = max(most_steps, steps), max(most_slots, held)
        assert steps <= CAP and held <= CAP, (steps, held)
        time.sleep(0.05)

    statuses = run_blocking(_videos(user.id))
    assert [row["status"] for row in statuses] == ["completed"] * REQUESTS
    waited = run_blocking(_waited())
    assert waited > 0  # the excess waited in our queue, visibly
    assert most_slots == CAP  # the cap was reached, so the test measured something
    assert run_blocking(slots_held(user.id)) == 0
    spent = sum(row["credits_charged"] for row in statuses)
    assert run_blocking(balance(user.id)) == start_balance - spent
    assert run_blocking(charges.ledger_mismatches()) == []
    print(f"most provider jobs in flight: {most_steps} (slots held: {most_slots}, cap {CAP})")
