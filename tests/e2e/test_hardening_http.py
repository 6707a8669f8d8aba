"""A live server with its sessions on Redis: security headers everywhere, sessions only when needed,
no cookie on health checks, the bearer API or public cacheable files, and the smaller HTTP fixes."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest
import redis

from app import db
from app.accounts import tokens
from app.config import get_settings
from tests.billing_factories import make_user, make_video
from tests.conftest import run_blocking
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.live_cluster import SHOWCASE_MP4
from tests.e2e.sse import sign_in
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis

SESSION_KEYS = "adsvideo-sessions*"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require("redis")
    live = start_server(
        tmp_path_factory.mktemp("hardening"),
        REDIS_URL=REDIS_URL,
        REDIS_CHANNEL_PREFIX=f"t{uuid.uuid4().hex[:8]}:",
        MAX_OPEN_STREAMS_PER_USER="2",
    )
    yield live
    stop_server(live)


@pytest.fixture
def store():
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def session_keys(store) -> int:
    return sum(1 for _ in store.scan_iter(SESSION_KEYS))


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert "unsafe-inline" not in csp
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "strict-origin-when-cross-origin"
    assert response.headers.get("x-frame-options") == "DENY"
    assert "strict-transport-security" not in response.headers  # development: no HSTS


def test_every_kind_of_response_carries_the_security_headers(server):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        responses = {
            "page": http.get("/"),
            "api": http.get("/api/v1/showcase/videos"),
            "api error": http.get("/api/v1/auth/me"),
            "media": http.get(SHOWCASE_MP4, headers={"Range": "bytes=0-99"}),
            "static": http.get("/static/js/app.js"),
            "404 page": http.get("/no-such-page"),
            "404 api": http.get("/api/v1/no-such-thing"),
            "health": http.get("/healthz"),
        }
    assert responses["media"].status_code == 206
    assert responses["404 page"].status_code == 404 and responses["404 api"].status_code == 404
    for name, response in responses.items():
        assert_security_headers(response), name


def test_anonymous_traffic_stores_no_session_and_sets_no_cookie(server, store):
    before = session_keys(store)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(100):
            for path in ("/healthz", "/readyz", "/api/v1/showcase/videos", SHOWCASE_MP4, "/static/js/app.js"):
                r = http.get(path)
                assert "set-cookie" not in r.headers, (path, r.headers.get("set-cookie"))
            http.get("/")
            http.cookies.clear()
    assert session_keys(store) == before


def test_a_session_is_stored_at_sign_in_and_never_for_the_bearer_api(server, store):
    email = f"sess-{uuid.uuid4().hex[:8]}@example.com"
    before = session_keys(store)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        sign_in(http, email)
        assert session_keys(store) == before + 1
        for _ in range(20):
            assert http.get("/account").status_code == 200  # unchanged session: not written again
        assert session_keys(store) == before + 1
        http.post("/auth/logout", headers={"x-csrftoken": http.cookies.get("csrftoken", "")})
    assert session_keys(store) == before
    with httpx.Client(base_url=server.url, timeout=10) as api:
        for _ in range(50):
            r = api.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-token"})
            assert r.status_code == 401 and "set-cookie" not in r.headers
    assert session_keys(store) == before


def test_public_cacheable_responses_never_set_a_cookie(server):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        sign_in(http, f"cache-{uuid.uuid4().hex[:8]}@example.com")
        for path in ("/api/v1/showcase/videos", SHOWCASE_MP4, "/static/js/app.js"):
            r = http.get(path)
            assert "public" in r.headers.get("cache-control", ""), path
            assert "set-cookie" not in r.headers, path


def test_an_inverted_range_is_ignored_and_the_whole_file_sent(server):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        whole = http.get(SHOWCASE_MP4)
        r = http.get(SHOWCASE_MP4, headers={"Range": "bytes=5-1"})
    assert r.status_code == 200 and r.content == whole.content
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_sign_in_error_page_encodes_next_in_its_retry_link(server):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        r = http.get("/auth/google/callback", params={"state": "forged", "code": "x"})
        assert r.status_code in (400, 409)
        # The stored `next` comes from a sign-in that was started; start one with a tricky next.
        http.get("/auth/login", params={"next": '/videos?status=failed&x="><b>', "login_hint": "nobody"})
        r = http.get("/auth/google/callback", params={"state": "forged", "code": "x"})
    assert r.status_code in (400, 409)
    assert '"><b>' not in r.text
    assert "/auth/login?next=/videos%3Fstatus%3Dfailed%26x%3D%22%3E%3Cb%3E" in r.text.replace("&amp;", "&")


def test_open_live_streams_are_capped_per_user(server, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", server.env["DATABASE_URL"])
    get_settings.cache_clear()
    db.bind_engine(db.make_engine(server.env["DATABASE_URL"]))
    user = run_blocking(make_user(plan="pro"))
    video_id = run_blocking(make_video(user.id))
    token = run_blocking(tokens.issue_pair(user.id)).access_token
    get_settings.cache_clear()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server.url}/api/v1/videos/{video_id}/events"
    opened: list[httpx.Response] = []
    clients = [httpx.Client(timeout=30) for _ in range(2)]
    try:
        for client in clients:
            response = client.send(client.build_request("GET", url, headers=headers), stream=True)
            assert response.status_code == 200
            opened.append(response)
        third = httpx.get(url, headers=headers, timeout=10)
        assert third.status_code == 429 and third.json()["code"] == "too_many_streams"
        assert int(third.headers["retry-after"]) > 0
        opened.pop().close()
        clients[1].close()
        done = threading.Event()

        def reopen() -> None:
            with httpx.stream("GET", url, headers=headers, timeout=10) as again:
                assert again.status_code == 200
                done.set()

        deadline = threading.Timer(15, done.set)
        deadline.start()
        for _ in range(50):  # the closed stream's place is given back as soon as the server notices
            probe = threading.Thread(target=reopen, daemon=True)
            probe.start()
            probe.join(timeout=1)
            if done.is_set():
                break
        deadline.cancel()
        assert done.is_set()
    finally:
        for response in opened:
            response.close()
        for client in clients:
            client.close()


def test_options_lists_the_methods_of_the_route(server):
    r = httpx.options(f"{server.url}/api/v1/videos/1")
    assert r.status_code == 204
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "DELETE", "OPTIONS"}
    assert "POST" not in r.headers["allow"]
