"""No cookie on a response a shared cache may keep, nor on health checks and the bearer-token API.

A `Set-Cookie` on a `Cache-Control: public` response makes CDNs refuse to cache it (or worse, cache one
visitor's cookie for everybody).
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

COOKIELESS_PREFIXES = ("/healthz", "/readyz", "/api/", "/static/", "/media/public/")


class CookieGuardMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path_says_none = scope["path"].startswith(COOKIELESS_PREFIXES)

        async def send_without_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                names = [name.lower() for name, _ in headers]
                if b"set-cookie" in names and (path_says_none or _shared(headers, names)):
                    message["headers"] = [h for h, name in zip(headers, names, strict=True) if name != b"set-cookie"]
            await send(message)

        await self.app(scope, receive, send_without_cookies)


def _shared(headers, names: list[bytes]) -> bool:
    """`Cache-Control: public`: a shared cache may keep the response."""
    return any(
        name == b"cache-control" and b"public" in value.lower() for (_, value), name in zip(headers, names, strict=True)
    )
