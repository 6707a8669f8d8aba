"""`Allow` on OPTIONS answers lists every method of the route.

Litestar builds a route's OPTIONS answer when the route is first created; when more handlers join the
same path afterwards, their methods are missing from it. This reads the methods from the finished routes.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class AllowHeaderMiddleware:
    def __init__(self, app: ASGIApp, litestar: Litestar):
        self.app = app
        self.litestar = litestar
        self._methods: dict[str, str] | None = None

    def _allow_for(self, template: str) -> str | None:
        if self._methods is None:
            methods: dict[str, str] = {}
            for route in self.litestar.routes:
                if isinstance(route, HTTPRoute):
                    allow = ", ".join(sorted(route.methods))
                    methods[route.path] = allow
                    methods[route.path_format] = allow
            self._methods = methods
        return self._methods.get(template)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                allow = self._allow_for(scope.get("path_template", "")) if "allow" in headers else None
                if allow:
                    headers["Allow"] = allow
            await send(message)

        await self.app(scope, receive, send_with_allow)
