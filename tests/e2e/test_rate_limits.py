"""Rate limits hold across two web processes sharing Redis: 429 with Retry-After in the API's error shape."""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis

from app.accounts import tokens
from tests.billing_factories import make_user
from tests.e2e.live_cluster import worker
from tests.services import REDIS_URL, require
from tests.studio_factories import jpeg

pytestmark = pytest.mark.redis

LIMIT = 3
GROUPS = ("SIGN_IN", "REFRESH", "UPLOAD", "VALIDATE", "GENERATE")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two web processes sharing a database and Redis, every limit at LIMIT per hour."""
    require("redis")
    from tests.e2e.conftest import start_server, stop_server

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("adsvideo:rl:*"):
        client.delete(key)
    client.close()
    root = tmp_path_factory.mktemp("limits")
    shared = {
        "REDIS_URL": REDIS_URL,
        "REDIS_CHANNEL_PREFIX": f"t{uuid.uuid4().hex[:8]}:",
        "DATABASE_URL": f"sqlite:///{root}/shared.db",
        "MEDIA_ROOT": str(root / "media"),
        **{f"RATE_LIMIT_{group}": f"{LIMIT}/hour" for group in GROUPS},
    }
    (root / "a").mkdir(), (root / "b").mkdir()
    first = start_server(root / "a", **shared)
    second = start_server(root / "b", **shared)
    yield first, second, shared
    stop_server(second)
    stop_server(first)


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == "rate_limited" and body["status_code"] == 429 and body["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 3600


def alternate(cluster, send) -> list[httpx.Response]:
    """LIMIT + 1 requests, alternating between the two web processes."""
    first, second, _ = cluster
    return [send(server.url) for server in [first, second] * LIMIT][: LIMIT + 1]


def test_anonymous_limits_hold_across_both_processes(cluster):
    photo = jpeg(64, 64)
    cases = {
        "sign_in": lambda url: httpx.post(f"{url}/api/v1/auth/google", json={"id_token": "x.y.z"}),
        "refresh": lambda url: httpx.post(f"{url}/api/v1/auth/refresh", json={"refresh_token": "nope"}),
        "validate": lambda url: httpx.post(f"{url}/api/v1/upload/validate", files={"file": ("p.jpg", photo)}),
    }
    for name, send in cases.items():
        answers = alternate(cluster, send)
        assert all(r.status_code != 429 for r in answers[:LIMIT]), (name, [r.status_code for r in answers])
        assert_limited(answers[LIMIT])


def test_signed_in_limits_count_per_user_across_both_processes(cluster, worker):
    user = worker(make_user(credits=1000, plan="pro"))
    other = worker(make_user(credits=1000, plan="pro"))
    token = worker(tokens.issue_pair(user.id)).access_token
    other_token = worker(tokens.issue_pair(other.id)).access_token
    photo = jpeg(64, 64)

    def upload(url, bearer=token):
        return httpx.post(
            f"{url}/api/v1/upload/image",
            files={"file": ("p.jpg", photo)},
            headers={"Authorization": f"Bearer {bearer}"},
        )

    def generate(url, bearer=token):
        return httpx.post(
            f"{url}/api/v1/videos/generate", json={"prompt": ""}, headers={"Authorization": f"Bearer {bearer}"}
        )

    for send in (upload, generate):
        answers = alternate(cluster, send)
        assert all(r.status_code != 429 for r in answers[:LIMIT]), [r.status_code for r in answers]
        assert_limited(answers[LIMIT])
        first, _, _ = cluster
        assert send(first.url, other_token).status_code != 429  # another user has a count of their own
