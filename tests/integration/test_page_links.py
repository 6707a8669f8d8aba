"""Every link and form on the main pages points at a route that exists (links are built by route name)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from app.showcase.seed import seed
from tests.studio_factories import make_user, make_video, sign_in

ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "sse-connect", "hx-get", "hx-post", "hx-push-url"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ATTRIBUTES and value and value.startswith("/") and not value.startswith("//"):
                self.found.append((name, value))


def _links(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.found


def _route_patterns(app) -> list[re.Pattern]:
    patterns = []
    for route in app.routes:
        regex = re.sub(r"\{[^}:]+:int\}", r"\\d+", route.path)
        regex = re.sub(r"\{[^}:]+:path\}", r".+", regex)
        regex = re.sub(r"\{[^}:]+:str\}", r"[^/]+", regex)
        patterns.append(re.compile(f"^{regex}/?$"))
    return patterns


async def test_main_pages_link_only_to_routes_that_exist(client, app, settings):
    await seed(quick=True)
    admin = await make_user(is_admin=True, plan="pro", credits=1000)
    done = await make_video(admin.id, prompt="A sneaker orbit")
    failed = await make_video(admin.id, status="failed", prompt="A mug", error_message="Moderation")
    await sign_in(client, admin)
    pages = [
        "/",
        "/pricing",
        "/create",
        "/videos",
        f"/videos/{done.id}",
        f"/videos/{failed.id}",
        "/account",
        "/account/ledger",
        "/admin/users",
        "/admin/showcase",
        "/admin/trial-images",
    ]
    patterns = _route_patterns(app)
    readable = set()
    for page in pages:
        r = await client.get(page)
        assert r.status_code == 200, page
        links = _links(r.text)
        assert links, f"{page} has no internal links"
        for attribute, value in links:
            path = urlsplit(value).path
            assert any(p.match(path) for p in patterns), f"{page}: {attribute}={value!r} matches no route"
            if attribute in ("href", "src", "poster", "hx-get"):
                readable.add(value)
    # what a click or an image load fetches answers (pages, fragments, media, static files)
    for url in sorted(readable):
        r = await client.get(url)
        assert r.status_code in (200, 206), f"GET {url} → {r.status_code}"
