"""A few seconds of memory for anonymous GETs of the public pages: one render serves every visitor.

Only requests that carry no session cookie and no bearer token, for the home page, the pricing page
and the public showcase API, and only complete 200 answers without cookies. Anonymous visitors on these
pages get no cookie at all (they have nothing to post), so one rendering fits all of them. Admin changes
to the showcase clear it (`clear()`); otherwise an entry lives `PAGE_CACHE_SECONDS`. A hit says its age.
"""

from __future__ import annotations

import time

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.sessions import SESSION_COOKIE

PATHS = ("/", "/pricing")
PREFIXES = ("/api/v1/showcase/",)
MAX_ENTRIES = 256
MAX_BODY = 1024 * 1024

_entries: dict[tuple, tuple[float, str | None, list[tuple[bytes, bytes]], bytes]] = {}


def clear() -> None:
    _entries.clear()


def _anonymous_public(scope: Scope) -> bool:
    if scope["method"] not in ("GET", "HEAD"):
        return False
    path = scope["path"]
    if path not in PATHS and not path.startswith(PREFIXES):
        return False
    for name, value in scope["headers"]:
        if name == b"authorization" or name == b"if-none-match":
            return False
        if name == b"cookie" and SESSION_COOKIE.encode() in value:
            return False
    return True


def _key(scope: Scope) -> tuple:
    headers = dict(scope["headers"])
    # Everything a response varies on: htmx fragments, and the CORS answer to the caller's origin.
    return (
        scope["method"],
        scope["path"],
        scope["query_string"],
        headers.get(b"hx-request"),
        headers.get(b"hx-boosted"),
        headers.get(b"hx-target"),
        headers.get(b"origin"),
    )


class PageCacheMiddleware:
    def __init__(self, app: ASGIApp, ttl: float):
        self.app = app
        self.ttl = ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ttl <= 0 or scope["type"] != "http" or not _anonymous_public(scope):
            await self.app(scope, receive, send)
            return
        key = _key(scope)
        now = time.monotonic()
        hit = _entries.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            stored_at, template, headers, body = hit
            scope["path_template"] = template  # the request's metrics and log line name the route, as on a miss
            age = str(int(now - stored_at)).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [*headers, (b"age", age)]})
            await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                if "set-cookie" in headers:  # nothing to post here: an anonymous visitor needs no cookie
                    del headers["set-cookie"]
                start.update(message)
            elif message["type"] == "http.response.body" and start:
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and start.get("status") == 200 and scope["method"] == "GET":
                    body = b"".join(chunks)
                    if len(body) <= MAX_BODY:
                        if len(_entries) >= MAX_ENTRIES:
                            _entries.clear()
                        _entries[key] = (time.monotonic(), scope.get("path_template"), list(start["headers"]), body)
            await send(message)

        await self.app(scope, receive, capture)
