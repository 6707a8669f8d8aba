"""Anonymous visitors of the public pages share one rendering for a few seconds; nobody else ever does."""

from __future__ import annotations

import pytest

from app.showcase import content, home_cache
from app.showcase.seed import seed
from app.tables import ShowcaseVideos
from app.web import page_cache
from tests.billing_factories import make_user
from tests.ops_support import samples, value
from tests.studio_factories import sign_in


@pytest.fixture(autouse=True)
def page_cache_on(monkeypatch):
    monkeypatch.setenv("PAGE_CACHE_SECONDS", "30")
    page_cache.clear()
    yield
    page_cache.clear()


@pytest.fixture
async def seeded(settings):
    await seed(quick=True)


async def test_an_anonymous_visitor_gets_the_shared_rendering_without_cookies(client, seeded):
    first = await client.get("/")
    second = await client.get("/")
    assert first.status_code == second.status_code == 200
    assert "age" not in first.headers and int(second.headers["age"]) >= 0
    assert second.text == first.text
    assert "set-cookie" not in first.headers and "set-cookie" not in second.headers
    # The security headers are still on a hit.
    assert second.headers["x-content-type-options"] == "nosniff"
    # htmx fragments are their own entries, never the full page.
    fragment = await client.get("/?category=lifestyle", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "age" not in fragment.headers


async def test_a_signed_in_visitor_is_never_served_from_it(client, seeded):
    await client.get("/")
    user = await make_user(credits=0)
    await sign_in(client, user)
    response = await client.get("/")
    assert "age" not in response.headers
    assert user.email.split("@")[0] in response.text or "Sign out" in response.text


async def test_an_admin_change_to_the_showcase_is_seen_at_once(client, seeded):
    before = (await client.get("/")).text
    assert "Run lighter" in before
    video = await ShowcaseVideos.objects().where(ShowcaseVideos.title == "Run lighter").first()
    await content.delete_video(video.id)
    after = await client.get("/")
    assert "age" not in after.headers
    assert "Run lighter" not in after.text


async def test_conditional_and_cross_origin_requests_get_their_own_answers(client, seeded):
    first = await client.get("/api/v1/showcase/videos")
    again = await client.get("/api/v1/showcase/videos")
    assert "age" in again.headers and again.json() == first.json()
    etag = first.headers["etag"]
    assert (await client.get("/api/v1/showcase/videos", headers={"If-None-Match": etag})).status_code == 304
    other_origin = await client.get("/api/v1/showcase/videos", headers={"Origin": "https://elsewhere.example"})
    assert "age" not in other_origin.headers


async def test_a_served_copy_is_counted_under_its_route(client, seeded):
    def home_views(text: str) -> float:
        return value(samples(text), "adsvideo_http_requests_total", method="GET", route="/", status="200")

    before = home_views((await client.get("/metrics")).text)
    for _ in range(3):
        assert (await client.get("/")).status_code == 200
    assert home_views((await client.get("/metrics")).text) - before == 3
