"""Public showcase and recent-users API: checked against the /openapi.json document itself; ETag/304;
the home page's query count stays flat as showcase rows grow; the cache clears on admin changes."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from app import db
from app.showcase import content, home_cache
from app.showcase.seed import seed
from app.tables import ShowcaseVideos, TrialImages, Users, Videos


@pytest.fixture
async def seeded(settings):
    await seed(quick=True)


async def _document(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _validate(document: dict, path: str, status: int, body) -> None:
    """Validate `body` against the response schema the document gives for GET `path` → `status`."""
    operation = document["paths"][path]["get"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    # $refs point at #/components/...; give the schema the document's components so they resolve.
    Draft202012Validator({**schema, "components": document["components"]}).validate(body)


PUBLIC = [
    "/api/v1/showcase/videos",
    "/api/v1/showcase/featured",
    "/api/v1/showcase/hero-videos",
    "/api/v1/showcase/trial-images",
    "/api/v1/users/recent",
]


@pytest.mark.parametrize("path", PUBLIC)
async def test_public_responses_match_the_openapi_document(client, seeded, path):
    document = await _document(client)
    response = await client.get(path)
    assert response.status_code == 200
    _validate(document, path, 200, response.json())
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["etag"].startswith('"')


async def test_a_schema_check_would_catch_a_wrong_body(client, seeded):
    from jsonschema import ValidationError

    document = await _document(client)
    body = (await client.get("/api/v1/showcase/featured")).json()
    del body[0]["video_url"]
    with pytest.raises(ValidationError):
        _validate(document, "/api/v1/showcase/featured", 200, body)


async def test_validation_errors_match_the_documented_error_schema(client, seeded):
    document = await _document(client)
    response = await client.get("/api/v1/showcase/videos", params={"page_size": 500})
    assert response.status_code == 422
    _validate(document, "/api/v1/showcase/videos", 422, response.json())
    assert response.json()["code"] == "validation_error"


async def test_showcase_videos_filter_order_and_pages(client, seeded):
    everything = (await client.get("/api/v1/showcase/videos", params={"page_size": 50})).json()
    assert everything["total"] == 15 and not everything["has_more"]
    orders = [v["order"] for v in everything["items"]]
    assert orders == sorted(orders)
    fashion = (await client.get("/api/v1/showcase/videos", params={"category": "Fashion"})).json()
    assert [v["title"] for v in fashion["items"]] == ["Weekend bag", "Time, well kept", "Everyday carry"]
    assert fashion["total"] == 3
    first = (await client.get("/api/v1/showcase/videos", params={"page_size": 4})).json()
    last = (await client.get("/api/v1/showcase/videos", params={"page_size": 4, "page": 4})).json()
    assert first["has_more"] and not last["has_more"]
    assert [v["id"] for v in first["items"]] == [v["id"] for v in everything["items"][:4]]
    assert [v["id"] for v in last["items"]] == [v["id"] for v in everything["items"][12:]]


async def test_featured_hero_and_trial_lists(client, seeded):
    featured = (await client.get("/api/v1/showcase/featured")).json()
    hero = (await client.get("/api/v1/showcase/hero-videos")).json()
    trials = (await client.get("/api/v1/showcase/trial-images")).json()
    assert len(featured) == 3 and all(v["is_featured"] for v in featured)
    assert len(hero) == 3 and all(v["is_hero"] for v in hero)
    assert [t["title"] for t in trials][:2] == ["Green glass bottle", "Orange running shoe"]
    await TrialImages.update({TrialImages.is_active: False}).where(TrialImages.title == "Green glass bottle")
    trials = (await client.get("/api/v1/showcase/trial-images")).json()
    assert "Green glass bottle" not in [t["title"] for t in trials] and len(trials) == 5


async def test_recent_users_show_names_and_avatars_never_emails(client, seeded):
    for n in range(4):
        person = Users(email=f"person{n}@example.com", name=f"Person{n} Surname")
        await person.save()
        await Videos(user=person.id, prompt="A shoe", model="sora-2", duration=4, resolution="1280x720").save()
    response = await client.get("/api/v1/users/recent")
    body = response.json()
    assert body["total"] == 7
    assert [u["name"] for u in body["users"]] == ["Person3", "Person2", "Person1", "Person0", "Priya"]
    assert "@" not in response.text and "Surname" not in response.text
    assert set(body["users"][0]) == {"name", "avatar_url"}


async def test_matching_etag_gets_304_and_a_change_gets_a_new_body(client, seeded):
    first = await client.get("/api/v1/showcase/hero-videos")
    etag = first.headers["etag"]
    again = await client.get("/api/v1/showcase/hero-videos", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get("/api/v1/showcase/hero-videos", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    await ShowcaseVideos.update({ShowcaseVideos.title: "Run even lighter"}).where(ShowcaseVideos.title == "Run lighter")
    changed = await client.get("/api/v1/showcase/hero-videos", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Run even lighter" in changed.text


async def test_openapi_document_docs_and_redoc(client):
    document = await _document(client)
    assert document["info"]["title"] == "AdsVideo API"
    assert document["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["BearerAuth"]["description"],
    }
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {"detail", "code", "status_code"}
    # Only the API is documented: no pages, media, admin or health routes.
    assert all(path.startswith("/api/") for path in document["paths"]), list(document["paths"])
    for path in PUBLIC:
        assert path in document["paths"]
    # Every protected operation names a scheme the document defines (a typo would silently drop the lock icon).
    schemes = set(document["components"]["securitySchemes"])
    secured = [
        op for item in document["paths"].values() for op in item.values() if isinstance(op, dict) and op.get("security")
    ]
    assert secured, "no operation declares bearer security"
    assert {name for op in secured for requirement in op["security"] for name in requirement} <= schemes
    for path in ("/api/v1/auth/me", "/api/v1/users/profile", "/api/v1/videos/generate"):
        assert any(op.get("security") for op in document["paths"][path].values() if isinstance(op, dict)), path
    swagger = await client.get("/docs")
    assert swagger.status_code == 200 and "swagger-ui" in swagger.text.lower()
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200 and "redoc" in redoc.text.lower()


# --- query count and cache ------------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements the engine runs, through Piccolo's log_queries hook."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def __enter__(self):
        # The Postgres engine has __slots__, so the hook is replaced on the engine's class for the duration.
        self._engine = engine = db.current_engine()
        self._class = type(engine)
        self._original = self._class.__dict__.get("print_query")
        engine.log_queries = True
        self._class.print_query = lambda _engine, query_id, query: self.queries.append(query)
        return self

    def __exit__(self, *exc):
        self._engine.log_queries = False
        if self._original is None:
            del self._class.print_query
        else:
            self._class.print_query = self._original


async def _add_showcase_rows(n: int, start: int) -> None:
    await ShowcaseVideos.insert(
        *[
            ShowcaseVideos(
                title=f"Extra {i}",
                category=("Product", "Tech", "Cars")[i % 3],
                video_url=f"/media/public/x{i}.mp4",
                poster_url=f"/media/public/x{i}.jpg",
                is_featured=i % 2 == 0,
                is_hero=i % 5 == 0,
                order=100 + i,
            )
            for i in range(start, start + n)
        ]
    )


async def test_home_query_count_does_not_grow_with_showcase_rows(client, seeded):
    with QueryCounter() as few:
        assert (await client.get("/")).status_code == 200
    await _add_showcase_rows(60, 0)
    await home_cache.invalidate()
    with QueryCounter() as many:
        response = await client.get("/")
    assert response.status_code == 200 and "Cars" in response.text
    assert len(few.queries) == len(many.queries) <= 7, many.queries


async def test_home_data_is_cached_until_an_admin_change(client, seeded):
    await client.get("/")
    with QueryCounter() as warm:
        assert "Run lighter" in (await client.get("/")).text
    assert warm.queries == []
    # A change behind the cache's back is not seen yet...
    await ShowcaseVideos.update({ShowcaseVideos.title: "Renamed quietly"}).where(ShowcaseVideos.title == "Run lighter")
    assert "Renamed quietly" not in (await client.get("/")).text
    # ...an admin change through the service clears the cache at once.
    video = await ShowcaseVideos.objects().where(ShowcaseVideos.title == "Cold brew, bottled").first()
    await content.toggle_video(video.id, "is_active")
    html = (await client.get("/")).text
    assert "Renamed quietly" in html and "Cold brew, bottled" not in html


async def test_every_api_validation_failure_is_documented_as_422_error_body(client):
    document = await _document(client)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation.get("responses", {})
            assert "400" not in responses or "ErrorBody" in str(responses["400"]), (method, path)
            if operation.get("parameters"):
                assert responses["422"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorBody"
                }, (method, path)


@pytest.mark.redis
async def test_home_cache_in_redis_is_shared_and_cleared_by_admin_changes(settings, monkeypatch):
    """With REDIS_URL set the cache lives in Redis, so every web process sees an admin's change at once."""
    from tests.services import REDIS_URL, require

    require("redis")
    from app.config import get_settings
    from app.showcase import home

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    await home_cache.invalidate()
    try:
        await seed(quick=True)
        first = await home.home_data()
        assert [v.title for v in first.hero][0] == "Run lighter"
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=home_cache.NAMESPACE + ":*")]
        assert keys and 0 < await client.ttl(keys[0]) <= home_cache.TTL_SECONDS
        with QueryCounter() as warm:
            again = await home.home_data()
        assert warm.queries == [] and again == first
        video = await ShowcaseVideos.objects().where(ShowcaseVideos.title == "Run lighter").first()
        await content.toggle_video(video.id, "is_hero")
        assert [k async for k in client.scan_iter(match=home_cache.NAMESPACE + ":*")] == []
        assert "Run lighter" not in [v.title for v in (await home.home_data()).hero]
        await client.aclose()
    finally:
        await home_cache.invalidate()
