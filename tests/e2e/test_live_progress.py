"""Live progress over real HTTP: uvicorn subprocesses, Redis between them, SSE read with httpx.

The test plays the worker: it writes each step to the shared database and PUBLISHes it to Redis,
exactly as a Dramatiq worker process would; the web processes only relay.
"""

from __future__ import annotations

import httpx
import pytest

from app.accounts import tokens
from tests.e2e.live_cluster import (
    SHOWCASE_MP4,
    cluster,
    complete,
    new_email,
    signed_in,
    user_id,
    worker,
)
from tests.e2e.sse import EventReader
from tests.live_steps import HAPPY_PATH, fail_with_refund, new_video, step

pytestmark = pytest.mark.redis


def test_a_stream_sends_the_state_then_every_step_in_order_then_done(cluster, worker):
    first, _, _ = cluster
    email = new_email()
    with signed_in(first, email) as client:
        uid = user_id(worker, email)
        video_id = worker(new_video(uid))
        with client.stream("GET", f"/videos/{video_id}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = EventReader(response)
            opening = events.next()
            assert opening.event == "progress" and f'id="video-progress-{video_id}"' in opening.data
            assert 'data-status="pending"' in opening.data

            received = []
            for name, pct in HAPPY_PATH[:-1]:
                event_id = worker(step(video_id, name, pct))
                event = events.next()
                assert (event.event, event.id) == ("progress", str(event_id))
                received.append(event)
            assert "step-current" in received[3].data and ">40%<" in received[3].data
            assert ">90%<" in received[4].data

            worker(complete(video_id))
            done = events.next()
            assert done.event == "done"
            assert f'id="video-player-{video_id}"' in done.data and SHOWCASE_MP4 in done.data
            assert 'id="header-credits"' in done.data and 'hx-swap-oob="true"' in done.data
            assert events.next() is None  # the server ends the stream after `done`
        finished_page = client.get(f"/videos/{video_id}").text
        assert "sse-connect" not in finished_page and "<noscript>" not in finished_page


def test_connecting_mid_job_gets_the_current_state_and_last_event_id_only_the_missed_steps(cluster, worker):
    first, _, _ = cluster
    email = new_email()
    with signed_in(first, email) as client:
        video_id = worker(new_video(user_id(worker, email)))
        ids = [worker(step(video_id, name, pct)) for name, pct in HAPPY_PATH[:4]]
        page = client.get(f"/videos/{video_id}").text
        assert f'sse-connect="/videos/{video_id}/events"' in page and 'sse-close="done"' in page
        # Without JavaScript: the state at load time and a way to refresh it.
        assert "<noscript>" in page and f'<a href="/videos/{video_id}">Refresh</a>' in page and ">40%<" in page

        with client.stream("GET", f"/videos/{video_id}/events") as response:
            opening = EventReader(response).next()
        assert (opening.event, opening.id) == ("progress", str(ids[-1]))
        assert ">40%<" in opening.data and 'data-status="processing"' in opening.data

        with client.stream("GET", f"/videos/{video_id}/events", headers={"Last-Event-ID": str(ids[1])}) as response:
            events = EventReader(response)
            missed = [events.next(), events.next()]
            assert [e.id for e in missed] == [str(ids[2]), str(ids[3])]
            assert "step-current" in missed[0].data and ">0%<" in missed[0].data and ">40%<" in missed[1].data
            later = worker(step(video_id, "generating", 75))
            assert events.next().id == str(later)


def test_a_second_web_process_relays_steps_it_did_not_start(cluster, worker):
    first, second, _ = cluster
    email = new_email()
    with signed_in(first, email) as client:
        cookies = dict(client.cookies)
    # The session lives in Redis, so the second process knows the user too.
    with httpx.Client(base_url=second.url, cookies=cookies, timeout=10) as other:
        video_id = worker(new_video(user_id(worker, email), charge=0))
        with other.stream("GET", f"/videos/{video_id}/events") as response:
            events = EventReader(response)
            assert events.next().event == "progress"
            worker(step(video_id, "preparing"))
            assert "Preparing" in events.next().data
            worker(fail_with_refund(video_id, "Moderation blocked this prompt."))
            done = events.next()
            assert done.event == "done" and "Moderation blocked this prompt." in done.data
            assert 'hx-post="/videos/%d/retry"' % video_id in done.data


def test_the_api_stream_carries_json_and_needs_the_owners_token(cluster, worker):
    first, _, _ = cluster
    owner, stranger = new_email(), new_email()
    for email in (owner, stranger):
        with signed_in(first, email):
            pass
    owner_id, stranger_id = user_id(worker, owner), user_id(worker, stranger)
    video_id = worker(new_video(owner_id, charge=0))
    token = worker(tokens.issue_pair(owner_id)).access_token
    other_token = worker(tokens.issue_pair(stranger_id)).access_token
    url = f"{first.url}/api/v1/videos/{video_id}/events"

    assert httpx.get(url).status_code == 401
    r = httpx.get(url, headers={"Authorization": f"Bearer {other_token}"})
    assert (r.status_code, r.json()["code"]) == (404, "video_not_found")
    r = httpx.get(f"{first.url}/api/v1/videos/{video_id + 10_000}/events", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404

    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as response:
        events = EventReader(response)
        opening = events.next()
        assert opening.event == "progress" and opening.json()["status"] == "pending"
        event_id = worker(step(video_id, "generating", 30))
        data = events.next().json()
        assert (data["event_id"], data["step"], data["progress"], data["done"]) == (event_id, "generating", 30, False)
        worker(step(video_id, "completed", 100))
        final = events.next()
        assert final.event == "done" and final.json()["status"] == "completed" and final.json()["done"] is True


def test_pages_stream_only_the_owners_videos(cluster, worker):
    first, _, _ = cluster
    owner, stranger = new_email(), new_email()
    with signed_in(first, owner):
        pass
    video_id = worker(new_video(user_id(worker, owner)))
    with signed_in(first, stranger) as client:
        assert client.get(f"/videos/{video_id}/events").status_code == 404
        assert client.get(f"/videos/{video_id + 10_000}/events").status_code == 404
    anonymous = httpx.get(f"{first.url}/videos/{video_id}/events")
    assert anonymous.status_code in (302, 303) and "/auth/login" in anonymous.headers["location"]


def test_the_list_stream_updates_cards_and_ends_when_nothing_is_in_flight(cluster, worker):
    first, _, _ = cluster
    email = new_email()
    with signed_in(first, email) as client:
        uid = user_id(worker, email)
        video_id = worker(new_video(uid))
        page = client.get("/videos").text
        assert 'sse-connect="/videos/events"' in page and 'sse-swap="card"' in page
        with client.stream("GET", "/videos/events") as response:
            events = EventReader(response)
            opening = events.next()
            assert (
                opening.event == "card"
                and f'<article id="video-card-{video_id}" class="video-card" hx-swap-oob="true">' in opening.data
            )
            worker(step(video_id, "generating", 60))
            assert events.next().event == "card"
            worker(complete(video_id))
            card = events.next()
            assert card.event == "card" and "status-completed" in card.data
            assert events.next().event == "idle"
            assert events.next() is None
        assert "sse-connect" not in client.get("/videos").text
