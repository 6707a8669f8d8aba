"""The public home page: seeded and empty, filters as a fragment and as a page, trial links, SEO tags."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from PIL import Image

from app.media.storage import get_storage
from app.showcase import home_cache
from app.showcase.seed import seed
from app.tables import ShowcaseVideos, TrialImages, Users


@pytest.fixture
async def seeded(settings):
    await seed(quick=True)


async def test_home_with_seeded_content(client, seeded):
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert response.headers["vary"].lower() == "hx-request"
    # Hero carousel: autoplaying, muted, looping videos with posters, one per hero video.
    heroes = await ShowcaseVideos.select().where(ShowcaseVideos.is_hero == True)
    hero_tags = re.findall(r"<video class=\"hero-video\"[^>]*>", html)
    assert len(hero_tags) == len(heroes) == 3
    for tag in hero_tags:
        for attribute in ("autoplay", "muted", "loop", "playsinline", "poster="):
            assert attribute in tag
    # Featured and grid, filters for each category.
    assert 'id="featured"' in html and "Everyday carry" in html
    assert 'id="showcase-grid"' in html
    for category in ("Product", "Fashion", "F&amp;B", "Beauty", "Tech"):
        assert f">{category}</a>" in html
    # Trial images with links that sign in first and come back to the studio with the photo chosen.
    trial = await TrialImages.select().order_by(TrialImages.order).first()
    expected = "/auth/login?next=" + quote(f"/create?trial_image={trial['id']}", safe="/")
    assert f'href="{expected}"' in html.replace("&amp;", "&")
    # Recent creators: names (never emails) and the real count.
    assert "3 creators" in html
    assert "Priya" in html and "@demo.adsvideo.local" not in html
    # Plans in brief and the call to action.
    assert 'href="/pricing"' in html and "Start creating" in html


async def test_home_seo_tags(client, seeded):
    html = (await client.get("/")).text
    assert "<title>AdsVideo — AI ad videos from a product photo</title>" in html
    assert re.search(r'<meta name="description" content="[^"]{50,}">', html)
    assert '<meta property="og:type" content="website">' in html
    assert '<meta property="og:title"' in html and '<meta property="og:description"' in html
    poster = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert poster.startswith("http") and poster.endswith(".jpg")
    # The poster it names is really served.
    path = "/" + poster.split("/", 3)[3]
    assert (await client.get(path)).headers["content-type"] == "image/jpeg"


async def test_home_signed_in_trial_links_go_straight_to_the_studio(client, seeded):
    user = await Users.objects().where(Users.email == "pro@demo.adsvideo.local").first()
    await client.set_session_data({"user_id": user.id})
    html = (await client.get("/")).text
    ids = [row["id"] for row in await TrialImages.select(TrialImages.id)]
    for trial_id in ids:
        assert f'href="/create?trial_image={trial_id}"' in html
    assert "/auth/login?next=" not in html.split('id="try"')[1].split("</section>")[0]


async def test_home_with_an_empty_database(client):
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Your first ad video could be here." in html
    assert "Examples are on their way." in html
    assert "Sample photos are coming soon." in html
    assert "Be the first creator." in html
    assert 'id="featured"' not in html
    assert "og:image" not in html


async def test_category_filter_as_a_fragment(client, seeded):
    response = await client.get("/", params={"category": "Tech"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["vary"].lower() == "hx-request"
    html = response.text
    assert html.lstrip().startswith('<div id="showcase-grid"')
    assert "<html" not in html and "site-header" not in html
    titles = re.findall(r'class="video-card-title">([^<]+)<', html)
    assert sorted(titles) == ["Always on", "Studio sound", "The sound of focus"]
    assert 'aria-current="true">Tech</a>' in html


async def test_category_filter_as_a_full_page(client, seeded):
    response = await client.get("/", params={"category": "F&B"})
    assert response.status_code == 200
    html = response.text
    assert "<html" in html and 'id="showcase-grid"' in html
    grid = html.split('id="showcase-grid"')[1].split('id="try"')[0]
    titles = re.findall(r'class="video-card-title">([^<]+)<', grid)
    assert sorted(titles) == ["Cold brew, bottled", "First sip", "Morning ritual"]
    assert 'href="/?category=F%26B#showcase"' in html


async def test_unknown_category_shows_an_empty_state(client, seeded):
    html = (await client.get("/", params={"category": "Cars"}, headers={"HX-Request": "true"})).text
    assert "No Cars examples yet." in html


async def test_grid_paginates(client, seeded):
    first = (await client.get("/", headers={"HX-Request": "true"})).text
    assert len(re.findall(r'class="video-card-title"', first)) == 9
    assert 'hx-get="/?page=2"' in first
    second = (await client.get("/", params={"page": 2}, headers={"HX-Request": "true"})).text
    assert re.findall(r'class="video-card-title">([^<]+)<', second) == [
        "Everyday carry",
        "Bold red",
        "Night run",
        "Run lighter",
        "Cold brew, bottled",
        "The sound of focus",
    ]
    assert (await client.get("/", params={"page": 0})).status_code == 422


async def test_inactive_videos_and_trial_images_are_not_shown(client, seeded):
    await ShowcaseVideos.update({ShowcaseVideos.is_active: False}).where(ShowcaseVideos.title == "Run lighter")
    await TrialImages.update({TrialImages.is_active: False}).where(TrialImages.title == "Red lipstick")
    html = (await client.get("/")).text
    assert "Run lighter" not in html
    assert "Red lipstick" not in html


async def test_the_seeded_home_page_never_shows_the_same_clip_twice(client, seeded):
    """Hero, featured row and the grid's first page each show their own clips, from every category."""
    html = (await client.get("/")).text
    hero = re.findall(r'<video class="hero-video"[^>]*>\s*<source src="([^"]+)"', html)
    featured_html = html.split('id="featured"', 1)[1].split('id="showcase"', 1)[0]
    grid_html = html.split('id="showcase-grid"', 1)[1].split('id="try"', 1)[0]
    featured = re.findall(r'<source src="([^"]+)"', featured_html)
    grid = re.findall(r'<source src="([^"]+)"', grid_html)
    assert (len(hero), len(featured), len(grid)) == (3, 3, 9)
    shown = hero + featured + grid
    assert len(set(shown)) == len(shown)
    # and they look different: no two posters are the same picture under another caption
    storage = get_storage()
    posters = [row["poster_url"] for row in await ShowcaseVideos.select(ShowcaseVideos.poster_url)]
    thumbs = []
    for url in posters:
        with Image.open(storage.path(url.removeprefix("/media/"))) as img:
            thumbs.append(
                list(img.convert("RGB").crop((0, 0, img.width, img.height * 2 // 3)).resize((8, 8)).getdata())
            )
    for i, a in enumerate(thumbs):
        for b in thumbs[i + 1 :]:
            difference = sum(abs(x - y) for p, q in zip(a, b, strict=True) for x, y in zip(p, q, strict=True)) / (
                64 * 3
            )
            assert difference > 8
    categories = re.findall(r'<span class="category-tag">([^<]+)</span>', grid_html)
    assert len(set(categories)) == 5
