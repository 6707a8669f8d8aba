"""Emulators mounted inside the web app under /_emulators/ (development; never in production)."""

from __future__ import annotations

from pathlib import Path

from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from app.config import Settings


def _mount(path: str, app: ASGIApp) -> ASGIRouteHandler:
    @asgi(path, is_mount=True, copy_scope=True, include_in_schema=False, name=f"emulator:{path}")
    async def emulator(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return emulator


def emulator_routes(settings: Settings) -> list[ASGIRouteHandler]:
    """Each emulator the settings call for, at its /_emulators/ path; none in production."""
    if settings.is_production:
        return []
    routes: list[ASGIRouteHandler] = []
    storage = Path(settings.media_root) / "_emulators"
    if settings.use_google_emulator:
        from app.emulators.google import create_google_emulator

        path = "/_emulators/google"
        routes.append(_mount(path, create_google_emulator(f"{settings.base_url}{path}").app))
    if settings.use_sora_emulator:
        from app.emulators.openai_videos import create_openai_emulator

        app = create_openai_emulator(generation_seconds=settings.mock_generation_seconds, storage_dir=storage / "openai")
        routes.append(_mount("/_emulators/openai/v1", app))
    if settings.use_runway_emulator:
        from app.emulators.runway import MOUNT_PATH, create_runway_emulator

        app = create_runway_emulator(generation_seconds=settings.mock_generation_seconds,
                                     storage_dir=storage / "runway", public_root=f"{settings.base_url}{MOUNT_PATH}")
        routes.append(_mount(MOUNT_PATH, app))
    if settings.uses_mail_outbox:
        from app.emulators.mail import MOUNT_PATH as MAIL_PATH
        from app.emulators.mail import create_mail_emulator

        routes.append(_mount(MAIL_PATH, create_mail_emulator(settings.mail_outbox_dir)))
    return routes
