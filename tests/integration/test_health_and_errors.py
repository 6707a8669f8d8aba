"""Health probes and error responses in both forms (HTML pages, JSON under /api)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings


async def test_healthz_says_the_process_is_up(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_checks_database_redis_and_storage(client):
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(settings, tmp_path):
    from app import db

    broken = "postgresql://nobody@127.0.0.1:1/nothing"
    app = create_app(Settings(_env_file=None, app_env="test", database_url=settings.database_url))
    db.bind_engine(db.make_engine(broken))
    async with AsyncTestClient(app=app) as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("error")


async def test_unknown_page_renders_the_404_page(client):
    r = await client.get("/no/such/page")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert "We could not find that page" in r.text


async def test_unknown_api_route_answers_json(client):
    r = await client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found", "code": "not_found", "status_code": 404}


async def test_static_files_are_cached(client):
    r = await client.get("/static/vendor/htmx-2.0.11.min.js")
    assert r.status_code == 200
    assert "max-age=86400" in r.headers["cache-control"]


async def test_home_page_loads_vendored_htmx(client):
    r = await client.get("/")
    assert r.status_code == 200
    assert "/static/vendor/htmx-2.0.11.min.js" in r.text
    assert "/static/vendor/htmx-ext-sse-2.2.4.min.js" in r.text
