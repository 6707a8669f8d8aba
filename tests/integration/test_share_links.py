"""Share links, embeds, oEmbed and the gallery through the real app: an owner shares, an anonymous visitor
watches, the owner revokes and the link is gone; oEmbed answers valid JSON; publishing, hiding, promoting."""

from __future__ import annotations

import re

import jsonschema
import pytest
from litestar.testing import AsyncTestClient

from app.asgi import session_config
from app.tables import ShowcaseVideos
from tests.billing_factories import make_user
from tests.studio_factories import bearer, csrf, make_video, sign_in

OEMBED_VIDEO_SCHEMA = {
    "type": "object",
    "required": ["version", "type", "html", "width", "height", "title", "provider_name", "provider_url"],
    "properties": {
        "version": {"const": "1.0"},
        "type": {"const": "video"},
        "html": {"type": "string", "pattern": '^<iframe [^>]*src="[^"]+/embed"[^>]*></iframe>$'},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
        "title": {"type": "string", "minLength": 1},
        "provider_name": {"const": "AdsVideo"},
        "provider_url": {"type": "string", "format": "uri"},
        "thumbnail_url": {"type": "string"},
        "thumbnail_width": {"type": "integer"},
        "thumbnail_height": {"type": "integer"},
    },
}


@pytest.fixture
async def visitor(app, settings):
    """A second browser with no session: the anonymous public."""
    async with AsyncTestClient(app=app, session_config=session_config(settings)) as anonymous:
        yield anonymous


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


async def test_share_then_an_anonymous_visitor_watches_then_revoke_makes_it_404(client, visitor):
    owner = await make_user()
    video = await make_video(owner.id, prompt="Red sneakers on a sunny beach, slow motion")
    headers = await bearer(owner.id)

    shared = await client.post(f"/api/v1/videos/{video.id}/share", headers=headers)
    assert shared.status_code == 200, shared.text
    body = shared.json()
    assert re.fullmatch(r"http://[^/]+/s/[A-Za-z0-9_-]{43}", body["share_url"])
    assert body["embed_url"] == body["share_url"] + "/embed" and body["published"] is False
    again = await client.post(f"/api/v1/videos/{video.id}/share", headers=headers)
    assert again.json()["share_url"] == body["share_url"]  # sharing twice keeps one link

    page = await visitor.get(path_of(body["share_url"]))
    assert page.status_code == 200
    assert "Red sneakers on a sunny beach, slow motion" in page.text
    assert owner.email not in page.text and owner.name not in page.text
    assert '<meta name="robots" content="noindex">' in page.text and page.headers["x-robots-tag"] == "noindex"
    for tag in (
        'property="og:video"',
        'property="og:image"',
        'name="twitter:card" content="player"',
        f'name="twitter:player" content="{body["embed_url"]}"',
        'type="application/json+oembed"',
    ):
        assert tag in page.text, tag
    src = re.search(r'<video id="shared-video" src="([^"]+)"', page.text).group(1)
    played = await visitor.get(src, headers={"Range": "bytes=0-99"})
    assert played.status_code == 206 and played.content == (bytes(range(256)) * 40)[:100]
    assert (await visitor.get(f"{path_of(body['share_url'])}/poster")).headers["content-type"] == "image/webp"

    revoked = await client.delete(f"/api/v1/videos/{video.id}/share", headers=headers)
    assert revoked.status_code == 204
    for suffix in ("", "/embed", "/video.mp4", "/poster"):
        assert (await visitor.get(path_of(body["share_url"]) + suffix)).status_code == 404, suffix
    assert (await visitor.get("/oembed", params={"url": body["share_url"]})).status_code == 404

    fresh = await client.post(f"/api/v1/videos/{video.id}/share", headers=headers)
    assert fresh.json()["share_url"] != body["share_url"]  # a new link; the old one stays dead


async def test_only_the_owner_can_share_and_only_a_finished_video(client):
    owner, stranger = await make_user(), await make_user()
    video = await make_video(owner.id)
    pending = await make_video(owner.id, status="processing")
    assert (await client.post(f"/api/v1/videos/{video.id}/share", headers=await bearer(stranger.id))).status_code == 404
    assert (
        await client.delete(f"/api/v1/videos/{video.id}/share", headers=await bearer(stranger.id))
    ).status_code == 404
    refused = await client.post(f"/api/v1/videos/{pending.id}/share", headers=await bearer(owner.id))
    assert refused.status_code == 409 and refused.json()["code"] == "video_not_finished"
    assert (await client.post(f"/api/v1/videos/{video.id}/share")).status_code == 401
    assert (await client.get("/s/not-a-real-token")).status_code == 404


async def test_only_the_embed_page_may_be_framed_by_other_sites(client, visitor):
    owner = await make_user()
    video = await make_video(owner.id)
    url = (await client.post(f"/api/v1/videos/{video.id}/share", headers=await bearer(owner.id))).json()["share_url"]
    embed = await visitor.get(path_of(url) + "/embed")
    assert embed.status_code == 200
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    assert '<video id="embedded-video"' in embed.text
    page = await visitor.get(path_of(url))
    assert "frame-ancestors *" not in page.headers.get("content-security-policy", "")


async def test_oembed_answers_valid_json_with_the_iframe_and_sizes(client, visitor, settings):
    owner = await make_user()
    video = await make_video(owner.id, prompt="Iced coffee pour, studio light")
    url = (await client.post(f"/api/v1/videos/{video.id}/share", headers=await bearer(owner.id))).json()["share_url"]

    page = await visitor.get(path_of(url))
    discovery = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page.text).group(1)
    answer = await visitor.get(path_of(discovery.replace("&amp;", "&")))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    jsonschema.validate(data, OEMBED_VIDEO_SCHEMA)
    assert (data["width"], data["height"]) == (1280, 720)
    assert f'src="{url}/embed"' in data["html"] and data["title"] == "Iced coffee pour, studio light"

    small = (await visitor.get("/oembed", params={"url": url + "/embed", "maxwidth": 640, "format": "json"})).json()
    assert (small["width"], small["height"]) == (640, 360)
    assert (await visitor.get("/oembed", params={"url": url, "format": "xml"})).status_code == 501
    for other in ("https://elsewhere.example/s/abc", "not a url", url.replace("/s/", "/x/")):
        assert (await visitor.get("/oembed", params={"url": other})).status_code == 404, other
    assert (await visitor.get("/oembed")).status_code == 422


async def test_publish_puts_a_video_in_the_gallery_and_an_admin_can_hide_or_promote_it(client, visitor):
    owner = await make_user()
    video = await make_video(owner.id, prompt="Lavender candle, cozy evening")
    await sign_in(client, owner)
    headers = await csrf(client)
    published = await client.post(
        f"/videos/{video.id}/publish", data={"published": "1"}, headers={**headers, "HX-Request": "true"}
    )
    assert published.status_code == 200 and "Remove from the gallery" in published.text
    url = re.search(r'value="(http://[^"]+/s/[^"]+)"', published.text).group(1)

    gallery = await visitor.get("/gallery")
    assert "Lavender candle, cozy evening" in gallery.text
    page = await visitor.get(path_of(url))
    assert 'content="noindex"' not in page.text and "x-robots-tag" not in page.headers

    admin = await make_user(is_admin=True)
    await sign_in(client, admin)
    headers = await csrf(client)
    listing = await client.get("/admin/gallery/")
    item_id = re.search(r'data-gallery-item="(\d+)"', listing.text).group(1)
    assert (
        await client.post(f"/admin/gallery/{item_id}/hide", headers=headers, follow_redirects=False)
    ).status_code == 303
    assert "Lavender candle" not in (await visitor.get("/gallery")).text
    assert (await visitor.get(path_of(url))).status_code == 200  # hidden from the gallery, the link still works
    assert "Hidden" in (await client.get("/admin/gallery/")).text

    assert (
        await client.post(f"/admin/gallery/{item_id}/unhide", headers=headers, follow_redirects=False)
    ).status_code == 303
    promoted = await client.post(f"/admin/gallery/{item_id}/promote", headers=headers, follow_redirects=False)
    assert promoted.status_code == 303
    row = await ShowcaseVideos.objects().where(ShowcaseVideos.title == "Lavender candle, cozy evening").first()
    assert row is not None and row.is_active and row.is_featured
    assert row.video_url.startswith("/media/public/showcase/")
    served = await visitor.get(row.video_url)
    assert served.status_code == 200 and served.content == bytes(range(256)) * 40
    assert "Lavender candle, cozy evening" in (await visitor.get("/")).text

    await sign_in(client, owner)
    assert (await client.post(f"/admin/gallery/{item_id}/hide", headers=headers)).status_code == 403
    unpublished = await client.post(
        f"/videos/{video.id}/publish", data={"published": "0"}, headers=headers, follow_redirects=False
    )
    assert unpublished.status_code == 303
    assert "Lavender candle" not in (await visitor.get("/gallery")).text


async def test_the_share_page_shows_the_owners_brand_call_to_action(client, visitor):
    from app.sharing.links import cta_link
    from app.tables import BrandKits

    owner = await make_user()
    video = await make_video(owner.id)
    await BrandKits(user=owner.id, name="Acme", cta_text="Shop the drop", cta_url="acme.example/drop").save()
    url = (await client.post(f"/api/v1/videos/{video.id}/share", headers=await bearer(owner.id))).json()["share_url"]
    page = await visitor.get(path_of(url))
    assert 'href="https://acme.example/drop"' in page.text and "Shop the drop" in page.text
    assert cta_link("javascript:alert(1)") is None and cta_link("/relative") is None
    assert cta_link("http://x.example/a") == "http://x.example/a" and cta_link("two words.example") is None


async def make_rendition(video, placement: str = "9:16", width: int = 720, height: int = 1280):
    from app.media.storage import get_storage, new_key
    from app.tables import Finishings, Renditions

    finishing = Finishings(video=video.id, user=video.user, status="completed")
    await finishing.save()
    video_key, poster_key = new_key("videos", ".mp4"), new_key("posters", ".jpg")
    get_storage().save_bytes(video_key, b"rendition-bytes" * 50)
    get_storage().save_bytes(poster_key, b"\xff\xd8poster")
    row = Renditions(
        finishing=finishing.id,
        video=video.id,
        user=video.user,
        placement=placement,
        width=width,
        height=height,
        duration_ms=4000,
        video_key=video_key,
        poster_key=poster_key,
    )
    await row.save()
    return row


async def test_a_rendition_has_its_own_link_and_turning_sharing_off_ends_them_all(client, visitor):
    owner = await make_user()
    video = await make_video(owner.id, prompt="Summer sale teaser")
    rendition = await make_rendition(video)
    headers = await bearer(owner.id)
    own = (await client.post(f"/api/v1/videos/{video.id}/share", headers=headers)).json()["share_url"]
    shared = await client.post(f"/api/v1/videos/{video.id}/share", json={"rendition_id": rendition.id}, headers=headers)
    assert shared.status_code == 200
    url = shared.json()["share_url"]
    assert url != own

    page = await visitor.get(path_of(url))
    assert "Summer sale teaser (9:16)" in page.text and 'property="og:video:height" content="1280"' in page.text
    assert (await visitor.get(path_of(url) + "/video.mp4")).content == b"rendition-bytes" * 50
    oembed = (await visitor.get("/oembed", params={"url": url})).json()
    assert (oembed["width"], oembed["height"]) == (720, 1280)

    other = await make_video(owner.id)
    stray = await client.post(f"/api/v1/videos/{other.id}/share", json={"rendition_id": rendition.id}, headers=headers)
    assert stray.status_code == 404

    await sign_in(client, owner)
    detail = await client.get(f"/videos/{video.id}")
    assert f'data-rendition="{rendition.id}"' in detail.text and url in detail.text

    assert (await client.delete(f"/api/v1/videos/{video.id}/share", headers=headers)).status_code == 204
    assert (await visitor.get(path_of(url))).status_code == 404
    assert (await visitor.get(path_of(own))).status_code == 404
