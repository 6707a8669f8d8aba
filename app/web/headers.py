"""Security headers on every response: pages, API, media, static files and errors alike.

The policy allows scripts, styles, images, media and connections from our own origin only (images and media
also from the object storage, when media is kept there); there is no
inline script. There is no `form-action`: a form may lead on to a payment provider's page. A route may
change single directives through its `opt`, e.g. an embeddable player:
`@get(..., opt={CSP_OPT: {"frame-ancestors": "*"}})`.
"""

from __future__ import annotations

from functools import lru_cache

from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP_OPT = "csp"

BASE_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # blob: the studio's instant preview of a chosen photo; https: avatars (Google's, or a profile's URL).
    "img-src": "'self' data: blob: https:",
    "media-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
HSTS = "max-age=63072000; includeSubDomains"


def policy(overrides: dict[str, str] | None = None, media_origins: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy header value with `overrides` (directive -> sources) applied.

    `media_origins`: where else images and videos come from (the object storage media redirects to).
    """
    base = dict(BASE_POLICY)
    for name in ("img-src", "media-src"):
        base[name] = " ".join((base[name], *media_origins))
    merged = {**base, **(overrides or {})}
    return "; ".join(f"{name} {sources}" for name, sources in merged.items() if sources)


def _route_overrides(scope: Scope) -> dict[str, str] | None:
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    return opt.get(CSP_OPT)


@lru_cache(maxsize=64)
def _headers_for(
    overrides: tuple[tuple[str, str], ...], media_origins: tuple[str, ...], production: bool
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """(the CSP value, the other headers) for a route's overrides: the same few on every response."""
    directives = dict(overrides)
    others = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin")]
    if directives.get("frame-ancestors", "'none'") == "'none'":
        others.append((b"x-frame-options", b"DENY"))
    others.append((b"cross-origin-opener-policy", b"same-origin"))
    if production:
        others.append((b"strict-transport-security", HSTS.encode()))
    return policy(directives, media_origins).encode(), others


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, Referrer-Policy, frame protection and (in production) HSTS to every response."""

    def __init__(self, app: ASGIApp, *, production: bool, media_origins: tuple[str, ...] = ()):
        self.app = app
        self.production = production
        self.media_origins = media_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                overrides = tuple(sorted((_route_overrides(scope) or {}).items()))
                csp, others = _headers_for(overrides, self.media_origins, self.production)
                replaced = {name for name, _ in others}
                kept, has_csp = [], False
                for name, value in message.get("headers") or ():
                    lowered = name.lower()
                    has_csp = has_csp or lowered == b"content-security-policy"
                    if lowered not in replaced:
                        kept.append((name, value))
                if not has_csp:
                    kept.append((b"content-security-policy", csp))
                message["headers"] = [*kept, *others]
            await send(message)

        await self.app(scope, receive, send_with_headers)
