"""Emulators mounted inside the web app under /_emulators/ (development; never in production).

Each emulator's own app is built on its first request, so a web app (and each test's) that never
talks to an emulator does not pay for building it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from app.config import Settings


def _mount(path: str, build: Callable[[], ASGIApp]) -> ASGIRouteHandler:
    built: list[ASGIApp] = []

    @asgi(path, is_mount=True, copy_scope=True, include_in_schema=False, name=f"emulator:{path}")
    async def emulator(scope: Scope, receive: Receive, send: Send) -> None:
        if not built:
            built.append(build())
        await built[0](scope, receive, send)

    return emulator


def emulator_routes(settings: Settings) -> list[ASGIRouteHandler]:
    """Each emulator the settings call for, at its /_emulators/ path; none in production."""
    if settings.is_production:
        return []
    routes: list[ASGIRouteHandler] = []
    storage = Path(settings.media_root) / "_emulators"
    if settings.use_google_emulator:

        def google() -> ASGIApp:
            from app.emulators.google import create_google_emulator

            return create_google_emulator(f"{settings.base_url}/_emulators/google").app

        routes.append(_mount("/_emulators/google", google))
    if settings.use_sora_emulator:

        def openai() -> ASGIApp:
            from app.emulators.openai_videos import create_openai_emulator

            return create_openai_emulator(
                generation_seconds=settings.mock_generation_seconds, storage_dir=storage / "openai"
            )

        routes.append(_mount("/_emulators/openai/v1", openai))
    if settings.use_runway_emulator:
        from app.emulators.runway import MOUNT_PATH

        def runway() -> ASGIApp:
            from app.emulators.runway import create_runway_emulator

            return create_runway_emulator(
                generation_seconds=settings.mock_generation_seconds,
                storage_dir=storage / "runway",
                public_root=f"{settings.base_url}{MOUNT_PATH}",
            )

        routes.append(_mount(MOUNT_PATH, runway))
    if settings.use_veo_emulator:
        from app.emulators.veo import MOUNT_PATH as VEO_PATH

        def veo() -> ASGIApp:
            from app.emulators.veo import create_veo_emulator

            return create_veo_emulator(generation_seconds=settings.mock_generation_seconds, storage_dir=storage / "veo")

        routes.append(_mount(VEO_PATH, veo))
    if settings.uses_mail_outbox:
        from app.emulators.mail import MOUNT_PATH as MAIL_PATH

        def mail() -> ASGIApp:
            from app.config import get_settings
            from app.emulators.mail import create_mail_emulator

            return create_mail_emulator(lambda: get_settings().mail_outbox_dir)

        routes.append(_mount(MAIL_PATH, mail))
    if settings.use_stripe_emulator:
        from app.emulators.stripe import MOUNT_PATH as STRIPE_PATH

        def stripe() -> ASGIApp:
            from app.billing.catalogue import emulator_catalogue
            from app.emulators.stripe import EMULATOR_WEBHOOK_SECRET, create_stripe_emulator

            return create_stripe_emulator(
                public_root=f"{settings.base_url}{STRIPE_PATH}",
                forward_to=f"{settings.base_url}/billing/stripe/webhook",
                webhook_secret=settings.stripe_webhook_secret or EMULATOR_WEBHOOK_SECRET,
                catalogue=emulator_catalogue(),
            )

        routes.append(_mount(STRIPE_PATH, stripe))
    return routes
