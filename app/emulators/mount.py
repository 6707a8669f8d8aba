"""Emulators mounted inside the web app under /_emulators/ (development; never in production)."""

from __future__ import annotations

from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

from app.config import Settings


def emulator_routes(settings: Settings) -> list[ASGIRouteHandler]:
    routes: list[ASGIRouteHandler] = []
    if settings.is_production:
        return routes
    if settings.use_google_emulator:
        from app.emulators.google import create_google_emulator

        google = create_google_emulator(f"{settings.base_url}/_emulators/google").app

        @asgi("/_emulators/google", is_mount=True, copy_scope=True)
        async def google_emulator(scope: Scope, receive: Receive, send: Send) -> None:
            await google(scope, receive, send)

        routes.append(google_emulator)
    return routes
