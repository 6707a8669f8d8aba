"""Malformed input is a 4xx with a message, never a 500, and changes nothing — on SQLite and PostgreSQL.

Ids beyond 2^31 (PostgreSQL's integer) and 2^63 (SQLite's), pages far past the end, NUL characters and
JSON nested 100,000 deep, on the routes where each one used to fail.
"""

from __future__ import annotations

import pytest

from app.accounts.tokens import issue_pair
from app.tables import Videos
from tests.billing_factories import balance, make_user

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)

DEEP = b"[" * 100_000
HUGE = "99999999999999999999"  # beyond 2^64
JSON = {"content-type": "application/json"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response, *allowed: int) -> None:
    assert response.status_code in (allowed or (400, 404, 413, 422)), (response.status_code, response.text[:300])


async def pro_with_token():
    user = await make_user(credits=500, plan="pro")
    return user, (await issue_pair(user.id)).access_token


JSON_ENDPOINTS = [
    ("POST", "/api/v1/auth/google"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("PATCH", "/api/v1/users/profile"),
    ("POST", "/api/v1/videos/generate"),
]


async def test_deeply_nested_json_is_refused_on_every_json_endpoint(client):
    _, token = await pro_with_token()
    for method, path in JSON_ENDPOINTS:
        for headers in (JSON, {**JSON, **bearer(token)}):
            r = await client.request(method, path, content=DEEP, headers=headers)
            assert_refused(r, 401, 422)
            body = r.json()
            assert body["status_code"] == r.status_code and body["detail"], (path, body)
    nested_object = b'{"a":' * 50 + b"1" + b"}" * 50
    r = await client.post("/api/v1/videos/generate", content=nested_object, headers={**JSON, **bearer(token)})
    assert r.status_code == 422 and "nests 50 levels" in r.json()["detail"]


async def test_ids_beyond_the_database_integer_are_not_found(client):
    user, token = await pro_with_token()
    for path in ("/api/v1/videos/2147483648", f"/api/v1/videos/{HUGE}", "/api/v1/videos/9223372036854775808"):
        r = await client.get(path, headers=bearer(token))
        assert r.status_code == 404 and r.json()["code"] == "not_found", (path, r.text)
    r = await client.post(f"/api/v1/videos/{HUGE}/retry", headers=bearer(token))
    assert r.status_code == 404
    r = await client.delete("/api/v1/videos/2147483648", headers=bearer(token))
    assert r.status_code == 404
    assert await balance(user.id) == 500


async def test_pages_beyond_any_end_are_validation_errors(client):
    _, token = await pro_with_token()
    for query in ("page=2429823961502276608", "page=0", "page=-1", "page_size=99999999999999999999"):
        r = await client.get(f"/api/v1/showcase/videos?{query}")
        assert r.status_code == 422 and r.json()["code"] == "validation_error", (query, r.text)
    for query in ("page=2147483648", "per_page=0", "page=-5"):
        r = await client.get(f"/api/v1/videos?{query}", headers=bearer(token))
        assert r.status_code == 422, (query, r.text)
    assert (await client.get("/?page=2147483648")).status_code == 422


async def test_out_of_range_ids_in_a_generate_body_charge_nothing(client):
    user, token = await pro_with_token()
    for field in ("reference_image_id", "trial_image_id"):
        for value in (2147483648, 99999999999999999999, -99999999999999999999):
            r = await client.post(
                "/api/v1/videos/generate",
                json={"prompt": "A red shoe on sand", field: value},
                headers=bearer(token),
            )
            assert_refused(r, 404, 422)
    assert await balance(user.id) == 500
    assert await Videos.count().where(Videos.user == user.id) == 0


async def test_nul_characters_are_refused_and_nothing_is_stored(client):
    user, token = await pro_with_token()
    r = await client.get("/?category=%00")
    assert r.status_code == 422 and "NUL" in r.text
    r = await client.get("/api/v1/showcase/videos?category=a%00b")
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = await client.post("/api/v1/videos/generate", json={"prompt": "A shoe\u0000 on sand"}, headers=bearer(token))
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    r = await client.patch("/api/v1/users/profile", json={"name": "Eve\u0000"}, headers=bearer(token))
    assert r.status_code == 422
    assert await Videos.count().where(Videos.user == user.id) == 0
    assert await balance(user.id) == 500


async def test_pages_with_huge_ids_answer_4xx(client):
    admin = await make_user(plan="pro", is_admin=True)
    await client.set_session_data({"user_id": admin.id})
    r = await client.get(f"/create?from={HUGE}")
    assert r.status_code == 200  # an unusable "make another like this" id is ignored
    for path in (f"/admin/showcase/{HUGE}/edit", "/admin/showcase/2147483648/edit", f"/videos/{HUGE}"):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.status_code)
    r = await client.get("/videos/1/events", headers={"Last-Event-ID": HUGE})
    assert r.status_code == 404  # not their video; the huge Last-Event-ID is no error either
