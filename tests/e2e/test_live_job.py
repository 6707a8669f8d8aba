"""A real job, end to end on one live server (embedded worker, OpenAI emulator): its stream shows every step."""

from __future__ import annotations

import httpx
import pytest

from app import db
from app.accounts import tokens
from app.accounts import users as users_service
from app.config import get_settings
from tests.conftest import run_blocking
from tests.e2e.live_cluster import new_email
from tests.e2e.sse import EventReader, sign_in

ORDER = ["queued", "preparing", "submitting", "waiting", "generating", "downloading", "completed"]


@pytest.fixture
def on_live_database(live_server, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", live_server.env["DATABASE_URL"])
    get_settings.cache_clear()
    db.bind_engine(db.make_engine(live_server.env["DATABASE_URL"]))
    yield run_blocking
    get_settings.cache_clear()


def test_a_generated_video_streams_every_step_in_order_and_ends_with_done(live_server, on_live_database):
    email = new_email()
    with httpx.Client(base_url=live_server.url, timeout=15) as client:
        sign_in(client, email)
    live_server.cli("set-plan", email, "basic")
    user = on_live_database(users_service.get_user_by_email(email))
    auth = {"Authorization": f"Bearer {on_live_database(tokens.issue_pair(user.id)).access_token}"}

    with httpx.Client(base_url=live_server.url, timeout=30, headers=auth) as api:
        created = api.post("/api/v1/videos/generate", json={"prompt": "A red sneaker on wet sand, slow pan"})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        with api.stream("GET", f"/api/v1/videos/{video_id}/events") as response:
            events = EventReader(response)
            received = []
            while (event := events.next()) is not None:
                received.append(event)
    assert received[-1].event == "done" and all(e.event == "progress" for e in received[:-1])
    final = received[-1].json()
    assert (final["status"], final["step"], final["progress"], final["done"]) == ("completed", "completed", 100, True)
    assert final["video_url"]
    steps = [e.json()["step"] for e in received]
    assert steps == sorted(steps, key=ORDER.index)  # never backwards
    # The stream opened while the job ran, so it showed more than the end: the steps it went through.
    assert len(set(steps)) >= 3, steps
    ids = [int(e.id) for e in received]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Replaying the whole log from before the first event gives every step, in order, each once.
    with httpx.Client(base_url=live_server.url, timeout=15, headers=auth) as api:
        with api.stream("GET", f"/api/v1/videos/{video_id}/events", headers={"Last-Event-ID": "0"}) as response:
            events = EventReader(response)
            replay = []
            while (event := events.next()) is not None:
                replay.append(event.json()["step"])
    assert [s for i, s in enumerate(replay) if i == 0 or s != replay[i - 1]] == ORDER
