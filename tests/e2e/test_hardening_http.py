"""A live server with its sessions on Redis: security headers everywhere, sessions only when needed,
no cookie on health checks, the bearer API or public cacheable files, and the smaller HTTP fixes."""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis

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
        http.get("/auth/login", params={"next": "/videos?status=failed&x=\"><b>", "login_hint": "nobody"})
        r = http.get("/auth/google/callback", params={"state": "forged", "code": "x"})
    assert r.status_code in (400, 409)
    assert '"><b>' not in r.text
    assert "/auth/login?next=/videos%3Fstatus%3Dfailed%26x%3D%22%3E%3Cb%3E" in r.text.replace("&amp;", "&")
